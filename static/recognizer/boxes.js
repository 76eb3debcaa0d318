// Boxes over the digits of a picture (templates/recognizer/_result.html): each box's data-box holds
// left, top, width, height in the picture's own pixels; placed in percent once its size is known.
"use strict";

function placeBoxes(image) {
  const { naturalWidth: width, naturalHeight: height } = image;
  if (!width || !height) return;
  for (const box of image.parentElement.querySelectorAll("[data-box]")) {
    const [left, top, boxWidth, boxHeight] = box.dataset.box.split(" ").map(Number);
    Object.assign(box.style, {
      left: `${(100 * left) / width}%`,
      top: `${(100 * top) / height}%`,
      width: `${(100 * boxWidth) / width}%`,
      height: `${(100 * boxHeight) / height}%`,
    });
  }
}

for (const image of document.querySelectorAll("[data-testid=picture]")) {
  if (image.complete) placeBoxes(image);
  else image.addEventListener("load", () => placeBoxes(image));
}
