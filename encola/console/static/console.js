// Live parts of the console: an element with data-refresh="<url>" data-every="<seconds>" has its
// content replaced by a fresh fragment from that URL, without reloading the page. Paused while
// the tab is hidden; a failed fetch keeps the last content and tries again at the next tick.
"use strict";

function refreshEvery(element) {
  const url = element.dataset.refresh;
  const seconds = Math.max(2, parseInt(element.dataset.every || "5", 10));
  async function tick() {
    if (document.visibilityState === "visible") {
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
        if (response.redirected && response.url.includes("/console/login")) {
          window.location.assign(response.url);
          return;
        }
        if (response.ok) {
          element.innerHTML = await response.text();
        }
      } catch (error) {
        // offline or restarting: keep what is shown
      }
    }
    window.setTimeout(tick, seconds * 1000);
  }
  window.setTimeout(tick, seconds * 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-refresh]").forEach(refreshEvery);
});
