// The review page: one queued prediction at a time, decided by one key, the next already fetched.
// Decisions are sent in the background (each prediction's requests in order); the next item is on
// screen at once. Undo steps back through the last UNDO_DEPTH decisions, each decided anew.
(() => {
  const root = document.getElementById("review");
  if (!root) return;
  const UNDO_DEPTH = 10;
  const AHEAD = 16; // items fetched ahead
  const REFILL_BELOW = 10;
  const $ = (selector) => root.querySelector(selector);
  const view = {
    item: $(".review-item"), empty: $(".review-empty"), original: $(".review-original"),
    input: $(".review-input"), digit: $(".review-digit"), was: $(".review-was"), top: $(".review-top"),
    meta: $(".review-meta"), left: $("[data-testid=review-left]"), done: $("[data-testid=review-done]"),
    message: $(".review-message"), recent: $(".review-recent"),
  };
  const queue = []; // items fetched, not yet shown
  const decided = []; // the last decisions: {item, action, label}
  const chains = new Map(); // prediction id -> the promise of its last request
  const known = new Set(); // ids this page holds or decided: not to be fetched again
  let current = null;
  let left = Number(root.dataset.left) || 0;
  let done = 0;
  let fetching = null;
  let exhausted = false;
  let inFlight = 0;

  function setMessage(text) { view.message.textContent = text; }

  function updateCounts() {
    view.left.textContent = String(Math.max(0, left));
    view.done.textContent = String(done);
    root.dataset.pending = String(inFlight);
  }

  function show(item, note) {
    current = item;
    root.dataset.currentId = item ? item.id : "";
    view.item.hidden = !item;
    view.empty.hidden = Boolean(item) || !exhausted;
    if (!item) return;
    view.original.src = item.image_url;
    view.input.src = item.input_url;
    view.digit.textContent = String(item.digit);
    view.was.textContent = note || "";
    view.top.replaceChildren(...item.top.map(({digit, probability}) => {
      const li = document.createElement("li");
      li.textContent = `${digit}: ${(probability * 100).toFixed(1)} %`;
      return li;
    }));
    view.meta.textContent = `${item.source} · ${item.created_at} UTC · model ${item.model_version} · doubt ${item.doubt}`;
  }

  function preload(items) {
    for (const item of items) new Image().src = item.image_url;
  }

  function refill() {
    if (fetching || exhausted || queue.length >= REFILL_BELOW) return fetching;
    const url = new URL(root.dataset.itemsUrl, window.location.href);
    url.searchParams.set("count", String(AHEAD - queue.length));
    url.searchParams.set("exclude", [...known].join(","));
    fetching = fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then((response) => response.json().then((body) => {
        if (!response.ok) throw new Error(body.error || `error ${response.status}`);
        return body;
      }))
      .then((body) => {
        const fresh = body.items.filter((item) => !known.has(item.id));
        fresh.forEach((item) => known.add(item.id));
        exhausted = fresh.length === 0;
        queue.push(...fresh);
        preload(fresh);
        left = body.left;
        updateCounts();
        if (!current) show(queue.shift() || null);
      })
      .catch((error) => setMessage(`Could not fetch more: ${error.message}`))
      .finally(() => { fetching = null; });
    return fetching;
  }

  function send(item, form) {
    inFlight += 1;
    updateCounts();
    const url = root.dataset.decideUrl.replace("00000000-0000-1000-8000-000000000000", item.id);
    const previous = chains.get(item.id) || Promise.resolve();
    const request = previous.then(() => fetch(url, {
      method: "POST", credentials: "same-origin", body: new URLSearchParams(form),
      headers: {"X-CSRFToken": root.dataset.csrf, Accept: "application/json"},
    })).then((response) => response.json().then((body) => {
      if (!response.ok) throw new Error(body.error || `error ${response.status}`);
      if (form.action === "skip" && !decided.some((decision) => decision.item === item && decision.action !== "skip")) {
        known.delete(item.id); // the server keeps it from everyone for a while; then it may come back
      }
    })).catch((error) => setMessage(`Not saved (${item.digit}, ${item.id}): ${error.message}`))
      .finally(() => { inFlight -= 1; updateCounts(); });
    chains.set(item.id, request);
  }

  function renderRecent() {
    view.recent.replaceChildren(...decided.slice().reverse().map(({item, action, label}) => {
      const li = document.createElement("li");
      const img = document.createElement("img");
      img.src = item.input_url;
      img.width = 28;
      img.height = 28;
      img.alt = `input ${item.digit}`;
      const what = action === "skip" ? "skipped" : label === item.digit ? `confirmed ${label}` : `${item.digit} → ${label}`;
      li.append(img, ` ${what}`);
      return li;
    }));
  }

  function next() {
    show(queue.shift() || null);
    refill();
  }

  function decide(action, label) {
    if (!current) return;
    exhausted = false;
    const item = current;
    decided.push({item, action, label});
    if (decided.length > UNDO_DEPTH) decided.shift();
    if (action === "label") { done += 1; left -= 1; }
    send(item, action === "label" ? {action, label: String(label)} : {action});
    renderRecent();
    next();
  }

  function undo() {
    const last = decided.pop();
    if (!last) { setMessage("Nothing to undo."); return; }
    if (current) queue.unshift(current);
    known.add(last.item.id);
    if (last.action === "label") { done -= 1; left += 1; }
    send(last.item, {action: "undo"});
    renderRecent();
    show(last.item, last.action === "skip" ? "(skipped before)" : `(labelled ${last.label} before)`);
    updateCounts();
  }

  function press(key) {
    setMessage("");
    if (/^[0-9]$/.test(key)) decide("label", Number(key));
    else if (key === "Enter" || key === " ") { if (current) decide("label", current.digit); }
    else if (key === "s") decide("skip");
    else if (key === "u" || key === "Backspace") undo();
    else return false;
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, select, textarea")) return;
    if (event.target.closest("button") && (event.key === "Enter" || event.key === " ")) return;
    if (press(event.key)) event.preventDefault();
  });
  root.querySelectorAll("button[data-key]").forEach((button) => {
    button.addEventListener("click", () => { button.blur(); press(button.dataset.key); });
  });
  updateCounts();
  refill();
})();
