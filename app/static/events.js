// Server-sent events read from a fetch() response, since EventSource can neither POST nor
// send an Authorization header. One event is "data: <json>" lines ended by a blank line;
// comment lines (": keep-alive") and the "[DONE]" marker carry nothing to show.
"use strict";

const GatewayEvents = (() => {
  // Calls onEvent(object) for each event's JSON, in order, as the bytes arrive.
  async function read(response, onEvent) {
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

  return { read };
})();
