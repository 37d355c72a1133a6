// The operators' dashboard: keys from /admin/keys, traffic from /admin/stats, both polled with
// the admin token the operator typed (sent on every call; no cookie, so nothing to forge).
"use strict";

(() => {
  const { el, store, stored, showError, clearError, count, seconds } = Gateway;
  const TOKEN = "gateway.adminToken";
  const POLL_MS = 5000;
  const WINDOW_MS = 5 * 60 * 1000; // rates and percentiles over the last five minutes
  const $ = (id) => document.getElementById(id);

  let timer = null;
  let ticker = null;
  let keys = [];
  let usage = null; // /admin/usage: per client and per key, once the gateway has it
  let usageServed = true; // until it answers 404
  let pollFailed = false; // a failed poll's error is cleared by the next good one; an action's stays
  const samples = []; // [{t, stats}] of this visit, oldest first

  function token() { return stored(TOKEN); }

  async function call(path, method) {
    const response = await fetch(path, { method: method || "GET", cache: "no-store",
      credentials: "omit", referrerPolicy: "no-referrer", headers: Gateway.headers(token()) });
    if (!response.ok) throw await Gateway.errorFrom(response);
    return response.json();
  }

  async function poll() {
    clearTimeout(timer);
    if (!token()) return;
    try {
      const [keyList, stats] = await Promise.all([call("/admin/keys"), call("/admin/stats"),
        pollUsage()]);
      if (pollFailed) clearError($("admin-error"));
      pollFailed = false;
      $("admin-status").textContent = "Connected. Refreshing every " + POLL_MS / 1000 + " s.";
      document.querySelector(".token-card").classList.add("ready");
      keys = keyList.data || [];
      $("keys-note").textContent = keys.length + (keys.length === 1 ? " key" : " keys") +
        (keyList.scope === "deployment" ? " as the whole deployment sees them (Redis)"
          : " as worker " + keyList.worker_pid + " sees them");
      showKeys();
      samples.push({ t: Date.now(), stats });
      while (samples.length > 2 && samples[1].t < Date.now() - WINDOW_MS) samples.shift();
      showTraffic();
      timer = setTimeout(poll, POLL_MS);
    } catch (error) {
      pollFailed = true;
      showError($("admin-error"), Gateway.networkError(error));
      document.querySelector(".token-card").classList.remove("ready");
      $("admin-status").textContent = "Not connected.";
      if (error.status === 401) {
        // A wrong token stays wrong: stop asking with it.
        store(TOKEN, "");
        $("keys-body").replaceChildren(emptyRow("Enter the admin token to see the keys."));
        return;
      }
      timer = setTimeout(poll, POLL_MS * 2);
    }
  }

  // Per-client usage comes with shared state; a gateway without it answers 404, once.
  async function pollUsage() {
    if (!usageServed) return;
    try {
      usage = await call("/admin/usage");
    } catch (error) {
      if (error.status !== 404) throw error;
      usageServed = false;
      usage = null;
    }
    showUsage();
  }

  function tokensOf(counts) {
    return counts.total_tokens || (counts.input_tokens || 0) + (counts.output_tokens || 0);
  }

  function showUsage() {
    const section = $("usage-section");
    const clients = Object.entries((usage && usage.clients) || {});
    section.hidden = !usage;
    document.querySelector("table.keys").classList.toggle("without-usage", !usage);
    if (!usage) return;
    $("usage-note").textContent = usage.scope === "deployment" ? "the whole deployment (Redis)"
      : "this worker";
    $("usage-body").replaceChildren(...(clients.length ? clients.sort().map(([label, c]) =>
      el("tr", {},
        el("td", { class: "key", text: label, "data-label": "Client" }),
        el("td", { text: count(c.requests || 0), "data-label": "Requests" }),
        el("td", { text: count(c.images || 0), "data-label": "Images" }),
        el("td", { text: count(tokensOf(c)), "data-label": "Tokens" })))
      : [el("tr", {}, el("td", { colspan: "4", class: "empty", text: "No client has called yet." }))]));
  }

  // ---- keys ---------------------------------------------------------------------------------
  const STATE_NAMES = { active: "active", cooling: "cooling", out_of_rotation: "out of rotation" };

  function emptyRow(text) {
    return el("tr", {}, el("td", { colspan: "9", class: "empty", text }));
  }

  function ago(iso) {
    if (!iso) return "never";
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 60) return Math.round(s) + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    return Math.round(s / 3600) + " h ago";
  }
  function countdown(iso) {
    const s = Math.max(0, Math.ceil((Date.parse(iso) - Date.now()) / 1000));
    if (s >= 3600) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min left";
    if (s >= 60) return Math.floor(s / 60) + " min " + (s % 60) + " s left";
    return s + " s left";
  }

  function showKeys() {
    if (!keys.length) {
      $("keys-body").replaceChildren(emptyRow("No keys."));
      return;
    }
    $("keys-body").replaceChildren(...keys.map((key) => {
      const failures = Object.entries(key.failures || {});
      const failed = failures.reduce((sum, [, n]) => sum + n, 0);
      const state = el("td", {}, el("span", { class: "state " + key.state,
        text: STATE_NAMES[key.state] || key.state }));
      if (key.state === "cooling" && key.cooling_until) {
        state.append(el("span", { class: "state-note countdown", "data-until": key.cooling_until,
          text: countdown(key.cooling_until) }));
      }
      if (key.reason) state.append(el("span", { class: "state-note", text: key.reason }));
      const action = key.state === "active"
        ? el("button", { type: "button", class: "button small danger", text: "Disable",
          "aria-label": "Disable key " + key.key })
        : el("button", { type: "button", class: "button small", text: "Enable",
          "aria-label": "Enable key " + key.key });
      action.addEventListener("click", () => act(key.key, key.state === "active" ? "disable" : "enable"));
      // data-label: a phone shows each row as a card, its cells labelled (see gateway.css).
      state.dataset.label = "State";
      return el("tr", {},
        el("td", { class: "key", text: key.key, "data-label": "Key" }),
        state,
        el("td", { text: count(key.requests || 0), "data-label": "Requests" }),
        el("td", { text: count(key.successes || 0), "data-label": "OK" }),
        el("td", { text: count(failed), "data-label": "Failed",
          title: failures.map(([k, n]) => k + ": " + n).join(", ") || null }),
        el("td", { class: "error-text", text: key.last_error || "–", "data-label": "Last error" }),
        el("td", { text: ago(key.last_success_at), "data-label": "Last success" }),
        el("td", { class: "usage-col", text: keyUsage(key.key), "data-label": "Usage" }),
        el("td", { class: "action" }, action));
    }));
  }

  async function act(masked, verb) {
    try {
      // The masked form travels in the path; "…" is percent-encoded like any other character.
      await call("/admin/keys/" + encodeURIComponent(masked) + "/" + verb, "POST");
      clearError($("admin-error"));
    } catch (error) {
      showError($("admin-error"), Gateway.networkError(error));
      return;
    }
    poll();
  }

  function keyUsage(masked) {
    const counts = usage && usage.keys && usage.keys[masked];
    if (!counts) return "–";
    return count(counts.images || 0) + " img · " + count(tokensOf(counts)) + " tok";
  }

  function tick() {
    for (const note of document.querySelectorAll(".countdown")) {
      note.textContent = countdown(note.dataset.until);
    }
  }

  // ---- traffic ------------------------------------------------------------------------------
  const { totals, minus, quantile, span } = GatewayTraffic;

  function showTraffic() {
    const last = samples[samples.length - 1];
    const latest = totals(last.stats);
    const elapsed = last.t - samples[0].t;
    const delta = samples.length > 1 ? minus(latest, totals(samples[0].stats)) : null;
    // Shares and percentiles over a few seconds say little: until the window spans a minute
    // they are taken over everything since the gateway started.
    const windowed = delta && elapsed >= 60000 ? delta : null;
    const view = windowed || latest;
    const scope = windowed ? "last " + span(elapsed) : "since start";
    $("traffic-window").textContent = delta
      ? "Rates over the last " + span(elapsed) + " of this visit (up to 5 min)."
      : "Rates need a second sample (5 s).";

    $("stat-rpm").textContent = delta ? (delta.requests / (elapsed / 60000)).toFixed(1) : "–";
    $("stat-rpm-note").textContent = count(latest.requests) + " API requests since start";

    const errors = Object.entries(view.byStatus).filter(([s]) => Number(s) >= 400)
      .reduce((sum, [, n]) => sum + n, 0);
    $("stat-errors").textContent = view.requests ? Math.round((100 * errors) / view.requests) + " %" : "–";
    $("stat-errors-note").textContent = count(errors) + " of " + count(view.requests) + ", " + scope;

    const p50 = quantile(0.5, view.buckets), p95 = quantile(0.95, view.buckets);
    $("stat-latency").textContent = p50 === null ? "–" : seconds(p50) + " / " + seconds(p95);
    $("stat-latency-note").textContent = "image requests, " + scope;

    $("stat-images").textContent = count(delta ? delta.images : latest.images);
    $("stat-images-note").textContent = delta
      ? "last " + span(elapsed) + " · " + count(latest.images) + " since start" : "since start";
    const tokens = delta || latest;
    $("stat-tokens").textContent = latest.tokens ? count(tokens.tokens) : "–";
    $("stat-tokens-note").textContent = latest.tokens
      ? count(tokens.tokensIn) + " in, " + count(tokens.tokensOut) + " out" +
        (delta ? ", last " + span(elapsed) + " · " + count(latest.tokens) + " since start" : "")
      : "none reported by Gemini yet";

    const mix = Object.entries(view.byStatus).filter(([, n]) => n > 0).sort();
    $("error-mix").replaceChildren(el("li", { class: "mix-label", text: "Answers, " + scope + ":" }),
      ...mix.map(([status, n]) => el("li", {
        class: status === "429" ? "s429" : "s" + status[0], text: status + " × " + count(n) })));
    drawChart();
  }

  // Requests per minute between consecutive samples, as an SVG line (no canvas, no library).
  function drawChart() {
    const svg = $("chart");
    const points = [];
    for (let i = 1; i < samples.length; i++) {
      const minutes = (samples[i].t - samples[i - 1].t) / 60000;
      const delta = totals(samples[i].stats).requests - totals(samples[i - 1].stats).requests;
      points.push(minutes > 0 ? delta / minutes : 0);
    }
    const ns = "http://www.w3.org/2000/svg";
    const node = (tag, attributes) => {
      const item = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attributes)) item.setAttribute(k, v);
      return item;
    };
    const width = 600, height = 120, top = Math.max(1, ...points);
    const children = [0.25, 0.5, 0.75].map((f) => node("line", { class: "grid", x1: 0, x2: width,
      y1: height * f, y2: height * f }));
    if (points.length > 1) {
      const step = width / (points.length - 1);
      const xy = points.map((v, i) => [i * step, height - 4 - (v / top) * (height - 12)]);
      const path = xy.map(([x, y], i) => (i ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1)).join(" ");
      children.push(node("path", { class: "area", d: path + " L" + width + " " + height + " L0 " + height + " Z" }));
      children.push(node("path", { class: "line", d: path }));
    }
    svg.replaceChildren(...children);
    $("chart-legend").textContent = points.length > 1
      ? "peak " + top.toFixed(1) + " / min, one point per " + POLL_MS / 1000 + " s" : "collecting…";
  }

  // ---- token form ---------------------------------------------------------------------------
  $("admin-token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    store(TOKEN, $("admin-token").value.trim());
    $("admin-token").value = "";
    samples.length = 0;
    poll();
  });
  $("admin-forget").addEventListener("click", () => {
    store(TOKEN, "");
    clearTimeout(timer);
    keys = [];
    samples.length = 0;
    $("keys-body").replaceChildren(emptyRow("Enter the admin token to see the keys."));
    $("admin-status").textContent = "Token forgotten.";
    document.querySelector(".token-card").classList.remove("ready");
  });

  ticker = setInterval(tick, 1000);
  poll();
})();
