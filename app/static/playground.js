// The playground: generate and edit images through the gateway's own API, as any client would.
// This file wires the page: token, tabs, options, requests. events.js reads streams,
// mask.js is the brush, results.js shows what comes back.
//
// Requests ask for stream=true and read the answer with fetch + ReadableStream (EventSource can
// neither POST nor send an Authorization header). A gateway that answers plain JSON instead is
// understood too, so the page works whichever way the server answers.
"use strict";

(() => {
  const { el, store, stored, errorFrom, networkError, showError } = Gateway;
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

  // ---- sending, and reading the answer: an event stream or one JSON document --------------
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
        await GatewayEvents.read(response, (event) => run.event(event));
      } else {
        run.answer(await response.json());
      }
    } catch (exc) {
      if (run.abort.signal.aborted) return run.fail({ message: "Stopped." });
      return run.fail(networkError(exc));
    }
    run.finish();
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
    const run = new GatewayResults.Run("generate", prompt, n, size, null);
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
  let maskFile = null; // an uploaded mask, used instead of the painted one
  const brush = new MaskBrush($("mask-base"), $("mask-paint"), $("brush"), () => {
    maskFile = null;
    describeMask();
  });

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
    brush.unload();
    if (!file) {
      firstImage = null;
      $("mask-stage").hidden = true;
      return;
    }
    const url = URL.createObjectURL(file);
    const image = new Image();
    image.onload = () => {
      firstImage = { url, width: image.naturalWidth, height: image.naturalHeight };
      brush.load(image);
      $("mask-stage").hidden = false;
      describeMask();
    };
    image.src = url;
  }
  function describeMask() {
    $("mask-status").textContent = maskFile ? "Using the uploaded mask " + maskFile.name + "."
      : brush.painted ? "Painted areas may change; the rest is kept."
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

  $("mask-clear").addEventListener("click", () => {
    brush.clear();
    maskFile = null;
    describeMask();
  });
  $("mask-file").addEventListener("change", (event) => {
    maskFile = event.target.files[0] || null;
    event.target.value = "";
    describeMask();
  });

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
    const mask = maskFile || (brush.painted ? await brush.blob() : null);
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
    const run = new GatewayResults.Run("edit", prompt, n, shape, firstImage && firstImage.url);
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

  showTokenState();
  loadModels();
})();
