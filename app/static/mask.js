// The edit tab's mask: a brush painted over the first image, exported in OpenAI's meaning
// (a PNG of the image's size, transparent where the image may change, opaque elsewhere).
"use strict";

class MaskBrush {
  // base shows the image; paint (stacked above it, half transparent by CSS) takes the strokes.
  constructor(base, paint, brushSize, onChange) {
    this.base = base;
    this.paint = paint;
    this.brushSize = brushSize; // a range input: the brush's width in screen pixels
    this.onChange = onChange;
    this.ready = false;
    this.painted = false;
    this.last = null;
    paint.addEventListener("pointerdown", (event) => this.down(event));
    paint.addEventListener("pointermove", (event) => this.move(event));
    for (const end of ["pointerup", "pointercancel"]) {
      paint.addEventListener(end, () => { this.last = null; });
    }
  }

  // Both canvases take the image's own pixels, so the mask has exactly its size.
  load(image) {
    for (const canvas of [this.base, this.paint]) {
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
    }
    this.base.getContext("2d").drawImage(image, 0, 0);
    this.clear();
    this.ready = true;
  }

  unload() {
    this.ready = false;
    this.painted = false;
  }

  clear() {
    this.paint.getContext("2d").clearRect(0, 0, this.paint.width, this.paint.height);
    this.painted = false;
  }

  point(event) {
    const rect = this.paint.getBoundingClientRect();
    const scale = this.paint.width / rect.width;
    return { x: (event.clientX - rect.left) * scale,
      y: (event.clientY - rect.top) * (this.paint.height / rect.height), scale };
  }

  stroke(from, to) {
    const ctx = this.paint.getContext("2d");
    ctx.strokeStyle = "rgb(70, 86, 232)";
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.lineWidth = Number(this.brushSize.value) * to.scale;
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x + 0.01, to.y); // a click alone still leaves a dot
    ctx.stroke();
  }

  down(event) {
    if (!this.ready) return;
    this.paint.setPointerCapture(event.pointerId);
    this.last = this.point(event);
    this.stroke(this.last, this.last);
    this.painted = true;
    this.onChange();
  }

  move(event) {
    if (!this.last) return;
    const next = this.point(event);
    this.stroke(this.last, next);
    this.last = next;
  }

  // Opaque black where the image is kept, cleared (alpha 0) under every stroke.
  blob() {
    return new Promise((resolve) => {
      const out = document.createElement("canvas");
      out.width = this.paint.width;
      out.height = this.paint.height;
      const ctx = out.getContext("2d");
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, out.width, out.height);
      ctx.globalCompositeOperation = "destination-out";
      ctx.drawImage(this.paint, 0, 0);
      out.toBlob(resolve, "image/png");
    });
  }
}
