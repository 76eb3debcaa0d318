// Forms marked data-confirm="question" ask before they submit. A static file, not an onsubmit=
// attribute: the Content-Security-Policy runs no inline script.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
