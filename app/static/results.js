// Results on the playground: one box per image asked for, kept at its aspect ratio from the
// start (no layout jump), showing drafts, then the final with its real size, format, time
// and tokens; every final also lands in the session gallery with a download link.
"use strict";

const GatewayResults = (() => {
  const { el, apiError, showError, clearError } = Gateway;
  const $ = (id) => document.getElementById(id);

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

  return { Run };
})();
