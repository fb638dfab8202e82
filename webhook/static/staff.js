/* Staff console: keep the queue fresh, and fill the reply box from a canned reply.
   The queue page reloads when the queue changes (a new handoff, a claim, a resident's message);
   a conversation page shows a link instead, so a half-written reply is never lost.
   Without JavaScript the queue page refreshes every 30 seconds (a <noscript> meta refresh). */
(function () {
  "use strict";
  var POLL_MS = 4000;
  var status = document.getElementById("queue-status");
  if (status) {
    var version = status.getAttribute("data-version");
    var url = status.getAttribute("data-state-url");
    var mode = status.getAttribute("data-mode");
    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 401) { window.location.reload(); return null; }
          return response.ok ? response.json() : null;
        })
        .then(function (state) {
          if (!state) { return; }
          if (String(state.version) !== version) {
            if (mode === "reload") { window.location.reload(); return; }
            version = String(state.version);
            status.textContent = "";
            var link = document.createElement("a");
            link.href = window.location.pathname;
            link.textContent = "Something changed (a new message, or the queue). Reload to see it.";
            status.appendChild(link);
          }
          if (state.urgent_waiting > 0 && mode === "reload") {
            document.title = "(!) " + document.title.replace(/^\(!\) /, "");
          }
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ })
        .then(function () { window.setTimeout(poll, POLL_MS); });
    };
    window.setTimeout(poll, POLL_MS);
  }
  var canned = document.getElementById("canned");
  var reply = document.getElementById("reply-text");
  if (canned && reply) {
    canned.addEventListener("change", function () {
      var option = canned.options[canned.selectedIndex];
      var text = option.getAttribute("data-text");
      if (text) { reply.value = text; reply.focus(); }
    });
  }
})();
