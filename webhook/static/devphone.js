// Development phone: polls the JSON API for the chosen number and posts new messages.
(function () {
  const number = document.getElementById("number");
  const thread = document.getElementById("thread");
  const form = document.getElementById("composer");
  const body = document.getElementById("body");
  const api = document.querySelector("main").dataset.api;
  let lastSeen = -1;

  function render(messages) {
    const newest = messages.length ? messages[messages.length - 1].id : -1;
    if (newest === lastSeen) return;
    lastSeen = newest;
    thread.textContent = "";
    for (const m of messages) {
      const li = document.createElement("li");
      li.className = m.direction === "in" ? "in" : "out";
      li.textContent = m.text || "(no text)";
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = m.direction === "in" ? (m.intent ? "intent: " + m.intent : "") : m.status;
      li.appendChild(meta);
      thread.appendChild(li);
    }
    thread.scrollTop = thread.scrollHeight;
  }

  async function refresh() {
    try {
      const r = await fetch(api + "?number=" + encodeURIComponent(number.value));
      if (r.ok) render((await r.json()).messages);
    } catch (e) { /* server restarting: try again on the next tick */ }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const text = body.value;
    if (!text.trim()) return;
    body.value = "";
    await fetch(api, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ from: number.value, body: text }),
    });
    refresh();
  });
  body.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  number.addEventListener("change", function () { lastSeen = -1; refresh(); });
  refresh();
  setInterval(refresh, 1000);
})();
