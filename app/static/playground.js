// The playground: generate and edit images through the gateway's own API, as any client would.
//
// Requests ask for stream=true and read the answer with fetch + ReadableStream (EventSource can
// neither POST nor send an Authorization header). A gateway that answers plain JSON instead is
// understood too, so the page works whichever way the server answers.
"use strict";

(() => {
  const { el, store, stored, errorFrom, apiError, networkError, showError, clearError } = Gateway;
  const TOKEN = "gateway.clientToken";
  const tokenNeeded = document.body.dataset.tokenNeeded === "true";
  const $ = (id) => document.getElementById(id);

  // The aspect ratios every Gemini image model takes, sent as the gateway's aspect_ratio and
  // image_size. (OpenAI's size cannot say "3:2 at 1K": the gateway takes the tier from the
  // long edge.) The pixels are what Gemini answers with: known sizes, else area ≈ tier²
  // with both sides multiples of 16, as the gateway's demo computes them.
  const RATIOS = ["1:1", "3:2", "2:3", "4:3", "3:4", "5:4", "4:5", "16:9", "9:16", "21:9"];
  const TIERS = { "1K": 1024, "2K": 2048, "4K": 4096 };
  const KNOWN = { "1:1 1K": [1024, 1024], "16:9 1K": [1408, 768], "16:9 2K": [2752, 1536] };
  // Until the gateway refuses stream=true once, ask for it: drafts are worth having.
  let streaming = true;

  // ---- token --------------------------------------------------------------------------------
  function token() { return stored(TOKEN); }
  function showTokenState() {
    const card = document.querySelector(".token-card");
    const status = $("token-status");
    if (token()) {
      card.classList.add("ready");
      status.textContent = "Token set for this tab. It is sent only as an Authorization header.";
    } else {
      card.classList.remove("ready");
      status.textContent = tokenNeeded
        ? "Enter one of the gateway's client tokens. It stays in this tab only."
        : status.dataset.open || status.textContent;
    }
  }
  $("token-status").dataset.open = $("token-status").textContent.trim();
  // An open gateway ignores tokens: the page then shows no token form at all.
  if (tokenNeeded) $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("token");
    store(TOKEN, input.value.trim());
    input.value = "";
    showTokenState();
    loadModels();
  });
  if (tokenNeeded) $("token-forget").addEventListener("click", () => {
    store(TOKEN, "");
    showTokenState();
  });

  // ---- tabs (arrow keys move between them, as WAI-ARIA's tab pattern has it) ---------------
  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
  function selectTab(tab, focus) {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = !selected;
    }
    if (focus) tab.focus();
  }
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => selectTab(tab, false));
    tab.addEventListener("keydown", (event) => {
      const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      selectTab(tabs[(moves[event.key] + tabs.length) % tabs.length], true);
    });
  });

  // ---- models, ratio and size ---------------------------------------------------------------
  async function loadModels() {
    if (tokenNeeded && !token()) return; // it would only be refused
    let models;
    try {
      models = (await Gateway.getJSON("/v1/models", token())).data || [];
    } catch (e) {
      return; // the gateway's default model still works; a token error shows on Generate
    }
    for (const select of [$("model"), $("edit-model")]) {
      const chosen = select.value;
      select.replaceChildren(el("option", { value: "", text: "gateway default" }));
      for (const model of models) select.append(el("option", { value: model.id, text: model.id }));
      select.value = models.some((m) => m.id === chosen) ? chosen : "";
    }
  }

  for (const select of document.querySelectorAll(".ratio-select")) {
    for (const name of RATIOS) select.append(el("option", { value: name, text: name }));
  }
  $("ratio").value = "1:1";

  function pixels(ratio, tier) {
    const [w, h] = ratio.split(":").map(Number);
    const known = KNOWN[ratio + " " + tier] || (KNOWN[h + ":" + w + " " + tier] || []).slice().reverse();
    if (known.length) return known;
    const side = TIERS[tier], value = w / h, to16 = (x) => Math.max(16, Math.round(x / 16) * 16);
    return [to16(side * Math.sqrt(value)), to16(side / Math.sqrt(value))];
  }
  // {ratio, tier, width, height} for the chosen shape, or null for "auto".
  function chosenSize(ratioSelect, tierSelect) {
    if (!RATIOS.includes(ratioSelect.value)) return null;
    const [width, height] = pixels(ratioSelect.value, tierSelect.value);
    return { ratio: ratioSelect.value, tier: tierSelect.value, width, height };
  }
  function showSize(ratioId, tierId, hintId) {
    const size = chosenSize($(ratioId), $(tierId));
    $(tierId).disabled = !size;
    $(hintId).textContent = size ? "About " + size.width + " × " + size.height + " px"
      : hintId === "size-hint" ? "The model's default size" : "Size follows the first image";
  }
  for (const [ratio, tier, hint] of [["ratio", "tier", "size-hint"],
    ["edit-ratio", "edit-tier", "edit-size-hint"]]) {
    $(ratio).addEventListener("change", () => showSize(ratio, tier, hint));
    $(tier).addEventListener("change", () => showSize(ratio, tier, hint));
    showSize(ratio, tier, hint);
  }

  function clampN(input) {
    const n = Math.min(10, Math.max(1, parseInt(input.value, 10) || 1));
    input.value = n;
    return n;
  }

  // ---- reading the answer: an event stream or one JSON document ----------------------------
  // Calls onEvent(event) for each server-sent event's JSON; comments (": keep-alive") and the
  // "[DONE]" marker are skipped.
  async function readEventStream(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      let boundary;
      while ((boundary = buffer.search(/\r?\n\r?\n/)) !== -1) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
        dispatch(block, onEvent);
      }
      if (done) break;
    }
    if (buffer.trim()) dispatch(buffer, onEvent);
  }
  function dispatch(block, onEvent) {
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return;
    const text = data.join("\n");
    if (text === "[DONE]") return;
    let event;
    try { event = JSON.parse(text); } catch (e) { return; }
    onEvent(event);
  }

  // Sends the request and feeds a Run; resolves when the answer is complete. build(stream)
  // makes the request body; a gateway that refuses stream=true is asked again without it.
  async function send(run, url, build, headers) {
    let response = await post(run, url, build(streaming), headers);
    if (response && streaming && response.status === 400) {
      const error = await errorFrom(response.clone());
      if (error.param === "stream") {
        streaming = false;
        response = await post(run, url, build(false), headers);
      }
    }
    if (!response) return;
    await read(run, response);
  }
  async function post(run, url, body, headers) {
    try {
      return await fetch(url, { method: "POST", body, headers, credentials: "omit",
        cache: "no-store", referrerPolicy: "no-referrer", signal: run.abort.signal });
    } catch (exc) {
      run.fail(run.abort.signal.aborted ? { message: "Stopped." } : networkError(exc));
      return null;
    }
  }
  async function read(run, response) {
    if (!response.ok) return run.fail(await errorFrom(response));
    const type = response.headers.get("Content-Type") || "";
    try {
      if (type.includes("text/event-stream")) {
        await readEventStream(response, (event) => run.event(event));
      } else {
        run.answer(await response.json());
      }
    } catch (exc) {
      if (run.abort.signal.aborted) return run.fail({ message: "Stopped." });
      return run.fail(networkError(exc));
    }
    run.finish();
  }

  // ---- images -------------------------------------------------------------------------------
  function formatOf(b64) {
    if (b64.startsWith("iVBOR")) return "png";
    if (b64.startsWith("/9j/")) return "jpeg";
    if (b64.startsWith("UklGR")) return "webp";
    if (b64.startsWith("R0lGOD")) return "gif";
    return null;
  }
  function blobUrl(b64, format) {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    return URL.createObjectURL(new Blob([bytes], { type: "image/" + (format || "png") }));
  }
  function frame(width, height) {
    const box = el("div", { class: "frame waiting" });
    if (width && height) box.style.aspectRatio = width + " / " + height;
    return box;
  }

  // One image being made: its box, its drafts, then its final.
  class Slot {
    constructor(run, index, before) {
      this.run = run;
      this.index = index;
      this.done = false;
      this.frame = frame(run.width, run.height);
      this.badge = el("span", { class: "badge", text: "Waiting" });
      this.img = el("img", { alt: "", decoding: "async", hidden: true });
      this.frame.append(this.badge, this.img);
      this.meta = el("span", { class: "meta", text: "Image " + (index + 1) });
      this.link = el("a", { class: "button small", hidden: true, text: "Download" });
      const caption = el("figcaption", {}, this.meta, this.link);
      let media = this.frame;
      if (before) {
        const original = frame(run.width, run.height);
        original.classList.remove("waiting");
        original.append(el("span", { class: "badge", text: "Before" }),
          el("img", { src: before, alt: "The image before the edit" }));
        media = el("div", { class: "pair" }, original, this.frame);
      }
      this.node = el("figure", { class: "result" }, media, caption);
    }
    draft(b64, number) {
      if (this.done) return;
      this.img.src = "data:image/" + (formatOf(b64) || "png") + ";base64," + b64;
      this.img.className = "draft";
      this.img.alt = "Draft " + number + " of image " + (this.index + 1);
      this.img.hidden = false;
      this.badge.textContent = "Draft " + number;
    }
    final(item, answer) {
      this.done = true;
      const seconds = (performance.now() - this.run.started) / 1000;
      const b64 = item.b64_json;
      const format = (answer.output_format || (b64 && formatOf(b64)) || "png").toLowerCase();
      const src = b64 ? blobUrl(b64, format) : item.url;
      const tokens = answer.usage && answer.usage.total_tokens;
      this.img.className = "final";
      this.img.hidden = false;
      this.img.alt = this.run.prompt;
      this.img.addEventListener("load", () => {
        const width = this.img.naturalWidth, height = this.img.naturalHeight;
        this.frame.classList.remove("waiting");
        this.frame.style.aspectRatio = width + " / " + height;
        const parts = [width + "×" + height, format.toUpperCase(), Gateway.seconds(seconds)];
        if (tokens) parts.push(Gateway.count(tokens) + " tokens");
        this.meta.textContent = parts.join(" · ");
        this.link.href = src;
        this.link.download = "image-" + Date.now() + "-" + (this.index + 1) + "." +
          (format === "jpeg" ? "jpg" : format);
        this.link.hidden = false;
        addToGallery(src, width, height, format, this.run.prompt, this.link.download);
      }, { once: true });
      this.img.src = src;
      this.badge.remove();
    }
    missing(reason) {
      if (this.done) return;
      this.done = true;
      this.frame.classList.remove("waiting");
      this.img.hidden = true;
      this.badge.textContent = "No image";
      this.meta.textContent = reason;
    }
  }

  // One request: n slots, the stream's events or the JSON answer, the summary line.
  class Run {
    constructor(kind, prompt, n, size, before) {
      this.kind = kind;
      this.prompt = prompt;
      this.width = size ? size.width : null;
      this.height = size ? size.height : null;
      this.started = performance.now();
      this.abort = new AbortController();
      this.error = null;
      this.usage = null;
      this.results = $(kind + "-results");
      this.summary = $(kind + "-summary");
      this.errorBox = $(kind + "-error");
      clearError(this.errorBox);
      this.slots = Array.from({ length: n }, (_, i) => new Slot(this, i, before));
      this.results.replaceChildren(...this.slots.map((slot) => slot.node));
      this.summary.textContent = "Working on " + n + (n === 1 ? " image…" : " images…");
    }
    slotFor(event) {
      // OpenAI's events carry no image index; an index the server adds is used when present.
      const index = event.image_index ?? event.index;
      if (Number.isInteger(index) && this.slots[index]) return this.slots[index];
      return this.slots.find((slot) => !slot.done) || null;
    }
    event(event) {
      const type = String(event.type || "");
      if (type === "error" || event.error) {
        this.error = apiError(event.error || event, null);
        return;
      }
      const slot = this.slotFor(event);
      if (!slot) return;
      if (type.endsWith(".partial_image") && event.b64_json) {
        slot.draft(event.b64_json, (event.partial_image_index || 0) + 1);
      } else if (type.endsWith(".completed")) {
        if (event.usage) this.addUsage(event.usage);
        slot.final(event, event);
      }
    }
    answer(document) {
      const data = Array.isArray(document.data) ? document.data : [];
      if (document.usage) this.addUsage(document.usage);
      const shared = Object.assign({}, document, { usage: null });
      data.forEach((item, i) => { if (this.slots[i]) this.slots[i].final(item, shared); });
    }
    addUsage(usage) {
      const total = this.usage || { input_tokens: 0, output_tokens: 0, total_tokens: 0 };
      for (const name of Object.keys(total)) total[name] += Number(usage[name]) || 0;
      this.usage = total;
    }
    fail(error) {
      this.error = error;
      this.finish();
    }
    finish() {
      const seconds = (performance.now() - this.started) / 1000;
      const made = this.slots.filter((slot) => slot.done).length;
      for (const slot of this.slots) slot.missing(this.error ? "Not made" : "Gemini returned fewer images");
      if (this.error) showError(this.errorBox, this.error);
      if (this.error && made === 0) this.results.replaceChildren();
      const parts = [made + (made === 1 ? " image" : " images") + " in " + Gateway.seconds(seconds)];
      if (this.usage && this.usage.total_tokens) {
        parts.push(Gateway.count(this.usage.total_tokens) + " tokens (" +
          Gateway.count(this.usage.input_tokens) + " in, " +
          Gateway.count(this.usage.output_tokens) + " out)");
      }
      this.summary.textContent = this.error && made === 0 ? "" : parts.join(" · ");
    }
  }

  function busy(kind, run) {
    const submit = $(kind + "-submit");
    const stop = $(kind + "-stop");
    submit.disabled = Boolean(run);
    submit.textContent = run ? "Working…" : (kind === "edit" ? "Edit" : "Generate");
    stop.hidden = !run;
    stop.onclick = run ? () => run.abort.abort() : null;
  }

  function authHeaders(extra) { return Gateway.headers(token(), extra); }

  function missingToken(kind) {
    if (!tokenNeeded || token()) return false;
    showError($(kind + "-error"), { message: "Enter a client token first (top of the page)." });
    $("token").focus();
    return true;
  }

  // ---- generate -----------------------------------------------------------------------------
  async function generate(event) {
    event.preventDefault();
    const prompt = $("prompt").value.trim();
    if (!prompt) {
      showError($("generate-error"), { message: "Write a prompt first.", param: "prompt" });
      $("prompt").focus();
      return;
    }
    if (missingToken("generate")) return;
    const n = clampN($("n"));
    const size = chosenSize($("ratio"), $("tier"));
    const build = (stream) => {
      const body = { prompt, n, quality: $("quality").value, output_format: $("format").value };
      if (stream) Object.assign(body, { stream: true, partial_images: 2 });
      if ($("model").value) body.model = $("model").value;
      if (size) Object.assign(body, { aspect_ratio: size.ratio, image_size: size.tier });
      return JSON.stringify(body);
    };
    const run = new Run("generate", prompt, n, size, null);
    busy("generate", run);
    try {
      await send(run, "/v1/images/generations", build, authHeaders({
        "Content-Type": "application/json", "Accept": "text/event-stream, application/json" }));
    } finally {
      busy("generate", null);
    }
  }
  $("generate-form").addEventListener("submit", generate);

  for (const [area, form] of [["prompt", "generate-form"], ["edit-prompt", "edit-form"]]) {
    $(area).addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        $(form).requestSubmit();
      }
    });
  }

  // ---- edit: images, mask, request ----------------------------------------------------------
  const editFiles = [];
  let firstImage = null; // {url, width, height}
  let maskPainted = false;
  let maskFile = null;
  const base = $("mask-base");
  const paint = $("mask-paint");

  function showThumbs() {
    const list = $("edit-thumbs");
    list.replaceChildren(...editFiles.map((file, index) => {
      const remove = el("button", { type: "button", "aria-label": "Remove " + file.name, text: "×" });
      remove.addEventListener("click", () => {
        editFiles.splice(index, 1);
        showThumbs();
        loadFirstImage();
      });
      return el("li", {}, el("img", { src: URL.createObjectURL(file), alt: file.name }), remove);
    }));
  }
  function addFiles(files) {
    const images = Array.from(files).filter((file) => file.type.startsWith("image/"));
    if (!images.length) return;
    const hadFirst = editFiles.length > 0;
    editFiles.push(...images);
    showThumbs();
    if (!hadFirst) loadFirstImage();
  }
  function loadFirstImage() {
    const file = editFiles[0];
    maskPainted = false;
    if (!file) {
      firstImage = null;
      $("mask-stage").hidden = true;
      return;
    }
    const url = URL.createObjectURL(file);
    const image = new Image();
    image.onload = () => {
      firstImage = { url, width: image.naturalWidth, height: image.naturalHeight };
      for (const canvas of [base, paint]) {
        canvas.width = image.naturalWidth;
        canvas.height = image.naturalHeight;
      }
      base.getContext("2d").drawImage(image, 0, 0);
      paint.getContext("2d").clearRect(0, 0, paint.width, paint.height);
      $("mask-stage").hidden = false;
      describeMask();
    };
    image.src = url;
  }
  function describeMask() {
    $("mask-status").textContent = maskFile ? "Using the uploaded mask " + maskFile.name + "."
      : maskPainted ? "Painted areas may change; the rest is kept."
        : firstImage ? "No mask: the whole image may change." : "";
  }

  $("edit-images").addEventListener("change", (event) => {
    addFiles(event.target.files);
    event.target.value = "";
  });
  const dropzone = $("dropzone");
  dropzone.addEventListener("dragover", (event) => {
    event.preventDefault();
    dropzone.classList.add("over");
  });
  dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropzone.classList.remove("over");
    addFiles(event.dataTransfer.files);
  });

  // Painting: pointer coordinates scaled to the image's own pixels, so the mask has exactly
  // the first image's size (OpenAI's requirement).
  let last = null;
  function point(event) {
    const rect = paint.getBoundingClientRect();
    return { x: (event.clientX - rect.left) * (paint.width / rect.width),
      y: (event.clientY - rect.top) * (paint.height / rect.height),
      scale: paint.width / rect.width };
  }
  function stroke(from, to) {
    const ctx = paint.getContext("2d");
    ctx.strokeStyle = ctx.fillStyle = "rgb(70, 86, 232)";
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.lineWidth = Number($("brush").value) * to.scale;
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x + 0.01, to.y);
    ctx.stroke();
  }
  paint.addEventListener("pointerdown", (event) => {
    if (!firstImage) return;
    paint.setPointerCapture(event.pointerId);
    last = point(event);
    stroke(last, last);
    maskPainted = true;
    maskFile = null;
    describeMask();
  });
  paint.addEventListener("pointermove", (event) => {
    if (!last) return;
    const next = point(event);
    stroke(last, next);
    last = next;
  });
  for (const end of ["pointerup", "pointercancel"]) paint.addEventListener(end, () => { last = null; });

  $("mask-clear").addEventListener("click", () => {
    paint.getContext("2d").clearRect(0, 0, paint.width, paint.height);
    maskPainted = false;
    maskFile = null;
    describeMask();
  });
  $("mask-file").addEventListener("change", (event) => {
    maskFile = event.target.files[0] || null;
    event.target.value = "";
    describeMask();
  });

  // The mask as a PNG: opaque where the image is kept, transparent where it was painted.
  function maskBlob() {
    return new Promise((resolve) => {
      const out = document.createElement("canvas");
      out.width = paint.width;
      out.height = paint.height;
      const ctx = out.getContext("2d");
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, out.width, out.height);
      ctx.globalCompositeOperation = "destination-out";
      ctx.drawImage(paint, 0, 0);
      out.toBlob(resolve, "image/png");
    });
  }

  async function edit(event) {
    event.preventDefault();
    const prompt = $("edit-prompt").value.trim();
    if (!editFiles.length) {
      showError($("edit-error"), { message: "Choose an image to edit first.", param: "image" });
      $("edit-images").focus();
      return;
    }
    if (!prompt) {
      showError($("edit-error"), { message: "Write a prompt first.", param: "prompt" });
      $("edit-prompt").focus();
      return;
    }
    if (missingToken("edit")) return;
    const n = clampN($("edit-n"));
    const size = chosenSize($("edit-ratio"), $("edit-tier"));
    const mask = maskFile || (maskPainted ? await maskBlob() : null);
    const build = (stream) => {
      const form = new FormData();
      const field = editFiles.length === 1 ? "image" : "image[]";
      for (const file of editFiles) form.append(field, file, file.name);
      if (mask) form.append("mask", mask, maskFile ? maskFile.name : "mask.png");
      form.append("prompt", prompt);
      form.append("n", String(n));
      form.append("output_format", $("edit-format").value);
      if (stream) {
        form.append("stream", "true");
        form.append("partial_images", "2");
      }
      if ($("edit-model").value) form.append("model", $("edit-model").value);
      if (size) {
        form.append("aspect_ratio", size.ratio);
        form.append("image_size", size.tier);
      }
      return form;
    };
    const shape = size || (firstImage && { width: firstImage.width, height: firstImage.height });
    const run = new Run("edit", prompt, n, shape, firstImage && firstImage.url);
    busy("edit", run);
    try {
      // No Content-Type: the browser writes the multipart boundary itself.
      await send(run, "/v1/images/edits", build,
        authHeaders({ "Accept": "text/event-stream, application/json" }));
    } finally {
      busy("edit", null);
    }
  }
  $("edit-form").addEventListener("submit", edit);

  // ---- gallery ------------------------------------------------------------------------------
  function addToGallery(src, width, height, format, prompt, filename) {
    $("gallery-empty").hidden = true;
    const link = el("a", { class: "thumb", href: src, download: filename,
      title: "Download " + prompt }, el("img", { src, alt: prompt, loading: "lazy" }));
    const download = el("a", { href: src, download: filename, text: "↓ Save",
      "aria-label": "Download " + width + "×" + height + " " + format.toUpperCase() });
    const row = el("div", { class: "row" },
      el("span", { text: width + "×" + height + " · " + format.toUpperCase() }), download);
    $("gallery").prepend(el("li", {}, link, row));
  }

  showTokenState();
  loadModels();
})();
