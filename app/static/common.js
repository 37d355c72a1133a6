// Shared by the playground and the dashboard: tokens kept per tab, calls to the JSON API,
// and the API's error message turned into words a person reads.
"use strict";

const Gateway = (() => {
  // sessionStorage: gone when the tab closes, never sent by the browser on its own (unlike a
  // cookie), never part of a URL.
  function stored(name) {
    try { return sessionStorage.getItem(name) || ""; } catch (e) { return ""; }
  }
  function store(name, value) {
    try {
      if (value) sessionStorage.setItem(name, value); else sessionStorage.removeItem(name);
    } catch (e) { /* storage off: the token lives only as long as the page */ }
  }

  function headers(token, extra) {
    const result = Object.assign({ "Accept": "application/json" }, extra || {});
    if (token) result["Authorization"] = "Bearer " + token;
    return result;
  }

  // The API answers errors as {"error": {"message", "type", "param", "code"}}; anything else
  // (a proxy's HTML page, a dropped connection) still becomes a sentence.
  async function errorFrom(response) {
    let text = "";
    try { text = await response.text(); } catch (e) { /* body lost */ }
    try {
      const body = JSON.parse(text);
      const error = Array.isArray(body) ? body[0] && body[0].error : body && body.error;
      if (error && error.message) return apiError(error, response.status);
    } catch (e) { /* not JSON */ }
    return { message: "The gateway answered " + response.status + " " + (response.statusText || "") +
      " without an error message.", status: response.status };
  }
  function apiError(error, status) {
    return { message: String(error.message), code: error.code || null, param: error.param || null,
      type: error.type || null, status: status || null };
  }

  async function getJSON(path, token) {
    const response = await fetch(path, { headers: headers(token), cache: "no-store",
      credentials: "omit", referrerPolicy: "no-referrer" });
    if (!response.ok) throw await errorFrom(response);
    return response.json();
  }

  function networkError(exc) {
    if (exc && exc.message !== undefined && exc.status !== undefined) return exc;
    return { message: "Could not reach the gateway (" + ((exc && exc.message) || "network error") + ").",
      status: null };
  }

  function showError(box, error) {
    box.textContent = error.message;
    const details = [];
    if (error.status) details.push("HTTP " + error.status);
    if (error.code) details.push(error.code);
    if (error.param) details.push("parameter: " + error.param);
    if (details.length) {
      const small = document.createElement("small");
      small.textContent = details.join(" · ");
      box.appendChild(small);
    }
    box.hidden = false;
  }
  function clearError(box) { box.hidden = true; box.textContent = ""; }

  // Builds an element: el("li", {class: "x", text: "y"}, child...). Text only, never HTML.
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  const numbers = new Intl.NumberFormat();
  function count(value) { return numbers.format(Math.round(value)); }
  function seconds(value) {
    if (value === null || value === undefined || !isFinite(value)) return "–";
    // A no-break space keeps a number with its unit when a narrow screen wraps the line.
    if (value < 1) return Math.round(value * 1000) + "\u00a0ms";
    if (value < 100) return value.toFixed(1) + "\u00a0s";
    return Math.round(value) + "\u00a0s";
  }

  return { stored, store, headers, errorFrom, apiError, getJSON, networkError, showError,
    clearError, el, count, seconds };
})();
