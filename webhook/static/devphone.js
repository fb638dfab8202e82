// Development phone: polls the JSON API for the chosen number and posts new messages.
(function () {
  const number = document.getElementById("number");
  const thread = document.getElementById("thread");
  const form = document.getElementById("composer");
  const body = document.getElementById("body");
  const photo = document.getElementById("photo");
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
      li.textContent = ((m.text || "") + (m.media ? " [picture]" : "")).trim() || "(no text)";
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = m.direction === "in" ? (m.intent ? "intent: " + m.intent : "") : m.status;
      li.appendChild(meta);
      thread.appendChild(li);
    }
    thread.scrollTop = thread.scrollHeight;
  }

  function asDataUrl(file) {
    return new Promise(function (resolve, reject) {
      const reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = reject;
      reader.readAsDataURL(file);
    });
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
    const file = photo.files.length ? photo.files[0] : null;
    if (!text.trim() && !file) return;
    const message = { from: number.value, body: text };
    if (file) message.photo = await asDataUrl(file);
    body.value = "";
    photo.value = "";
    await fetch(api, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(message),
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
