// The upload page: drop images on the zone to recognise them at once; list the files chosen.
"use strict";

const form = document.querySelector("[data-testid=upload-form]");
const zone = form.querySelector(".dropzone");
const input = form.querySelector("input[type=file]");
const chosen = form.querySelector(".dropzone-files");

function listChosen() {
  const names = [...input.files].map((file) => file.name);
  chosen.textContent = names.length > 3 ? `${names.length} files chosen` : names.join(", ");
}

const button = form.querySelector("button[type=submit]");
const label = button.textContent;

function busy(isBusy) {
  button.disabled = isBusy;
  button.textContent = isBusy ? "Recognising…" : label;
}

input.addEventListener("change", listChosen);
form.addEventListener("submit", () => busy(true));
window.addEventListener("pageshow", () => busy(false)); // back to this page from the cache

// Dropping a file anywhere else would make the browser open it instead of the page.
for (const type of ["dragover", "drop"]) document.addEventListener(type, (event) => event.preventDefault());

zone.addEventListener("dragover", (event) => {
  event.dataTransfer.dropEffect = "copy";
  zone.classList.add("is-dragging");
});
zone.addEventListener("dragleave", (event) => {
  if (!zone.contains(event.relatedTarget)) zone.classList.remove("is-dragging");
});
zone.addEventListener("drop", (event) => {
  zone.classList.remove("is-dragging");
  if (!event.dataTransfer.files.length) return;
  const files = new DataTransfer();
  for (const file of event.dataTransfer.files) files.items.add(file);
  input.files = files.files;
  listChosen();
  form.requestSubmit();
});
