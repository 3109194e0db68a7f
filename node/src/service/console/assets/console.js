// The Salus console's one script: keeps a live page live. Pages work without it; with it, a page
// whose <main> carries `data-live` subscribes to the node's new heads over its WebSocket and, at
// each one, fetches its own <main> again as a fragment rendered (and escaped) by the node.
"use strict";

(function () {
  const main = document.querySelector("main[data-live]");
  const headNumber = document.querySelector("[data-head-number]");
  const liveState = document.querySelector("[data-live-state]");
  // At most one refresh in flight; a head arriving meanwhile asks for one more after it.
  let refreshing = false;
  let again = false;
  let retryDelay = 1000;

  function setState(text) {
    if (liveState) liveState.textContent = text;
  }

  function fragmentUrl() {
    const url = new URL(window.location.href);
    url.searchParams.set("fragment", "main");
    return url;
  }

  async function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      const response = await fetch(fragmentUrl(), { headers: { Accept: "text/html" } });
      if (response.ok) {
        const parsed = new DOMParser().parseFromString(await response.text(), "text/html");
        main.replaceChildren(...parsed.body.childNodes);
        main.dispatchEvent(new CustomEvent("salus:refreshed", { bubbles: true }));
      }
    } catch (error) {
      setState("live (refresh failed: " + error.message + ")");
    } finally {
      refreshing = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(scheme + "//" + window.location.host + "/");
    socket.addEventListener("open", () => {
      retryDelay = 1000;
      socket.send(
        JSON.stringify({ jsonrpc: "2.0", id: 1, method: "chain_subscribeNewHeads", params: [] }),
      );
    });
    socket.addEventListener("message", (message) => {
      let payload;
      try {
        payload = JSON.parse(message.data);
      } catch {
        return;
      }
      if (payload.id === 1 && payload.result !== undefined) {
        setState("live");
        document.documentElement.dataset.live = "subscribed";
        return;
      }
      if (payload.method !== "chain_newHead" || !payload.params) return;
      const head = payload.params.result;
      if (headNumber && head && Number.isSafeInteger(head.number)) {
        headNumber.textContent = "#" + head.number;
      }
      if (main) refresh();
    });
    socket.addEventListener("close", () => {
      setState("not live (reconnecting)");
      delete document.documentElement.dataset.live;
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  if ("WebSocket" in window) connect();
})();
