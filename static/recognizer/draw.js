// The draw page: a canvas for mouse, touch and pen (pointer events), a live preview after each
// stroke, Undo/Clear, and Save, which stores the drawing.
"use strict";

const SIZE = 280; // logical canvas height: points and brush widths are kept in these units (wide screens: wider)
const PREVIEW_DELAY = 250; // ms after the last stroke before asking for a preview

const root = document.querySelector("[data-testid=draw]");
const canvas = root.querySelector("canvas");
const ctx = canvas.getContext("2d");
const brush = root.querySelector("input[name=brush]");
const brushSize = root.querySelector("output");
const buttons = Object.fromEntries(
  [...root.querySelectorAll("button[data-action]")].map((button) => [button.dataset.action, button]),
);
const outcome = root.querySelector(".outcome");
const placeholder = outcome.querySelector(".placeholder");
const errorBox = outcome.querySelector(".error");
const resultBox = outcome.querySelector(".outcome-result");
const widget = outcome.querySelector("template").content.firstElementChild;

let strokes = []; // [{width, points: [[x, y], ...]}]
let current = null; // {id: pointerId, stroke} while a stroke is being drawn
let timer = 0; // pending preview
let revision = 0; // bumped on every change and save: answers to older requests are dropped

// --- Drawing -----------------------------------------------------------------------------------
function resize() {
  const rect = canvas.getBoundingClientRect();
  canvas.width = Math.round(rect.width * devicePixelRatio);
  canvas.height = Math.round(rect.height * devicePixelRatio);
  redraw();
}

function redraw() {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const scale = canvas.height / SIZE;
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.strokeStyle = ctx.fillStyle = "#000";
  for (const stroke of strokes) paint(stroke);
}

// One path per stroke (painting it piecewise would darken the overlaps); one point is a dot.
function paint({ width, points }) {
  ctx.beginPath();
  if (points.length === 1) {
    ctx.arc(...points[0], width / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.lineWidth = width;
  ctx.moveTo(...points[0]);
  for (const point of points.slice(1)) ctx.lineTo(...point);
  ctx.stroke();
}

function pointAt(event) {
  const rect = canvas.getBoundingClientRect();
  return [((event.clientX - rect.left) * SIZE) / rect.height, ((event.clientY - rect.top) * SIZE) / rect.height];
}

canvas.addEventListener("pointerdown", (event) => {
  if (current || !event.isPrimary || event.button !== 0) return;
  event.preventDefault(); // no scrolling, selecting or dragging while drawing
  canvas.setPointerCapture(event.pointerId);
  clearTimeout(timer);
  current = { id: event.pointerId, stroke: { width: Number(brush.value), points: [pointAt(event)] } };
  strokes.push(current.stroke);
  paint(current.stroke);
});

canvas.addEventListener("pointermove", (event) => {
  if (event.pointerId !== current?.id) return;
  event.preventDefault();
  const coalesced = event.getCoalescedEvents?.() ?? [];
  for (const sample of coalesced.length ? coalesced : [event]) current.stroke.points.push(pointAt(sample));
  redraw();
});

function endStroke(event) {
  if (event.pointerId !== current?.id) return;
  current = null;
  changed();
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

function undo() {
  current = null;
  strokes.pop();
  redraw();
  changed();
}

function clear() {
  current = null;
  strokes = [];
  redraw();
  changed();
}

// --- Talking to the server ---------------------------------------------------------------------
function changed() {
  revision += 1;
  clearTimeout(timer);
  for (const button of Object.values(buttons)) button.disabled = !strokes.length;
  showError("");
  if (strokes.length) {
    setState("pending");
    timer = setTimeout(preview, PREVIEW_DELAY);
  } else {
    resultBox.replaceChildren();
    setState("empty");
  }
}

async function preview() {
  const image = canvas.toDataURL("image/png");
  const data = await send(root.dataset.previewUrl, { image });
  if (data) {
    const digits = data.digits?.map((entry) => ({ ...entry, input_url: entry.input }));
    show({ ...data, input_url: data.input, image_url: image, digits });
  }
}

async function save() {
  revision += 1;
  clearTimeout(timer);
  buttons.save.disabled = true;
  setState("saving");
  const data = await send(root.dataset.predictUrl, { image: canvas.toDataURL("image/png"), source: "draw" });
  if (data) show(data);
  buttons.save.disabled = Boolean(data) || !strokes.length; // saved: enabled again by the next change
}

// POST JSON; the response's JSON, or null after showing the error (or when superseded).
async function send(url, body) {
  const sent = revision;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `The server could not read the drawing (HTTP ${response.status}).`);
    return sent === revision ? data : null;
  } catch (error) {
    if (sent === revision) {
      showError(error instanceof TypeError ? "Could not reach the server; please try again." : error.message);
      setState("error");
    }
    return null;
  }
}

function csrfToken() {
  return document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/)?.[1] ?? "";
}

// --- Showing results ---------------------------------------------------------------------------
function setState(state) {
  outcome.dataset.state = state;
  outcome.setAttribute("aria-busy", String(state === "pending" || state === "saving"));
  placeholder.hidden = state !== "empty";
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function show(result) {
  resultBox.replaceChildren(renderResult(result));
  setState(result.url ? "saved" : "ready");
}

const percent = (p) => `${Math.round(p * 100)}%`;

// A copy of the result widget the server rendered into the page (templates/recognizer/_result.html),
// filled in with an API answer; the parts the answer does not have are removed.
function renderResult(answer) {
  const { digit, confidence, probabilities, input_url, url, unsure, number, digits } = answer;
  const result = widget.cloneNode(true);
  const part = (name) => result.querySelector(`[data-testid=${name}]`);
  result.classList.toggle("is-unsure", unsure);
  part("digit").textContent = digit;
  part("confidence").textContent = percent(confidence);
  part("input-image").src = input_url;
  fillBars(result.querySelector(":scope > .bars"), digit, probabilities);
  if (!unsure) part("unsure").remove();
  if (digits?.length > 1) {
    part("number").textContent = number;
    // A picture still waiting in the outbox has no stored original to show yet.
    renderDigits(part("number-part"), digits, answer.stored === "pending" ? "" : answer.image_url);
  } else {
    part("number-line").remove();
    part("number-part").remove();
  }
  if (url) part("stored-link").href = url;
  else part("stored-link").parentElement.remove();
  return result;
}

function fillBars(bars, digit, probabilities) {
  bars.querySelectorAll("[data-testid=bar]").forEach((bar, label) => {
    bar.classList.toggle("is-predicted", label === digit);
    bar.style.setProperty("--p", probabilities[label].toFixed(4));
    bar.querySelector(".visually-hidden").textContent = `: ${percent(probabilities[label])}`;
  });
}

// The widget's one placeholder digit (its box over the picture, its entry with bars and input on
// demand), copied and filled in for each digit read; the boxes placed by static/recognizer/boxes.js.
function renderDigits(section, digits, image_url) {
  const picture = section.querySelector("[data-testid=picture]");
  const [box, entry] = ["digit-box", "digit-details"].map((name) => section.querySelector(`[data-testid=${name}]`));
  const item = entry.parentElement;
  box.replaceWith(
    ...digits.map(({ digit, box: { left, top, width, height } }) => {
      const copy = box.cloneNode(true);
      copy.dataset.box = `${left} ${top} ${width} ${height}`;
      copy.querySelector("[data-testid=digit-box-label]").textContent = digit;
      return copy;
    }),
  );
  item.replaceWith(
    ...digits.map(({ digit, confidence, probabilities, input_url, url }) => {
      const copy = item.cloneNode(true);
      const part = (name) => copy.querySelector(`[data-testid=${name}]`);
      part("digit-label").textContent = digit;
      part("digit-confidence").textContent = percent(confidence);
      part("digit-input").src = input_url;
      if (url) part("digit-stored").querySelector("a").href = url;
      else part("digit-stored").remove();
      fillBars(copy.querySelector(".bars"), digit, probabilities);
      return copy;
    }),
  );
  if (!image_url) {
    picture.closest("figure").remove();
    return;
  }
  picture.addEventListener("load", () => placeBoxes(picture), { once: true }); // static/recognizer/boxes.js
  picture.src = image_url;
}

// --- Wiring ------------------------------------------------------------------------------------
brush.addEventListener("input", () => {
  brushSize.value = `${brush.value} px`;
});
buttons.undo.addEventListener("click", undo);
buttons.clear.addEventListener("click", clear);
buttons.save.addEventListener("click", save);
document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
    event.preventDefault();
    if (strokes.length) undo();
  }
});
new ResizeObserver(resize).observe(canvas);
