/* Resident chat widget. A department adds one tag to its website:

     <script src="https://chat.example.gov/static/widget.js" async
             data-language="en" data-color="#0b5cad" data-position="right"
             data-greeting="Hi! Ask me about our programs."></script>

   No framework, no build step. Everything the assistant, staff or a resident writes is put
   in the page with textContent (links and images are built as elements), never parsed as HTML.
   The session token lives in this site's localStorage, so a reload keeps the conversation.
   A line of an assistant or staff message that is only an http(s) address of a .png, .jpg,
   .jpeg, .gif or .webp file is shown as the image (a site with a Content-Security-Policy
   allows those hosts, or https:, in img-src). A session the server no longer knows (it
   expired after days without messages) is replaced by a new one, and the resident is told. */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || window.residentChatWidget) return;
  window.residentChatWidget = true;

  var ORIGIN = new URL(script.src, window.location.href).origin;
  var API = ORIGIN + "/chat/api";
  var KEY = "residentChat:" + ORIGIN + ":";
  var POLL_WAIT = 20;
  var DEFAULT_COLOR = "#0b5cad";
  var options = script.dataset || {};

  var strings = null;
  var language = "en";
  var token = storage("local", "token");
  var lastId = 0;
  var seen = {};
  var polling = false;
  var pollRequest = null;  // the AbortController of the read in flight
  var retryDelay = 1000;
  var unread = 0;
  var ui = {};

  // -- small helpers -------------------------------------------------------------------------

  function storage(kind, name, value) {
    try {
      var store = kind === "local" ? window.localStorage : window.sessionStorage;
      if (value === undefined) return store.getItem(KEY + name);
      if (value === null) store.removeItem(KEY + name);
      else store.setItem(KEY + name, value);
    } catch (e) { /* storage disabled: the conversation lasts as long as the page */ }
    return null;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function t(name) {
    var table = strings[language] || strings.en;
    return table[name] || strings.en[name] || "";
  }

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function pickLanguage(wanted) {
    var code = String(wanted || "").toLowerCase().split("-")[0];
    return strings && strings[code] ? code : "en";
  }

  // WCAG AA: white text on the accent colour needs 4.5:1; otherwise keep the default colour.
  function luminance(hex) {
    var v = hex.length === 4 ? hex.replace(/#(.)(.)(.)/, "#$1$1$2$2$3$3") : hex;
    var rgb = [1, 3, 5].map(function (i) {
      var c = parseInt(v.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  }

  function accentColor(wanted) {
    if (!/^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(wanted || "")) return DEFAULT_COLOR;
    return 1.05 / (luminance(wanted) + 0.05) >= 4.5 ? wanted : DEFAULT_COLOR;
  }

  // Text with web addresses and phone numbers as links; every piece is a text node.
  var LINK = /(https?:\/\/[^\s]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}(?:\/[^\s]*)?|\b\d{3}-\d{3}-\d{4}\b)/gi;

  function appendText(parent, text) {
    var last = 0;
    String(text).replace(LINK, function (match, _g, offset) {
      var found = match.replace(/[.,;:!?)]+$/, "");
      parent.appendChild(document.createTextNode(text.slice(last, offset)));
      var link;
      if (/^\d{3}-\d{3}-\d{4}$/.test(found)) {
        link = el("a", "rc-link", found);
        link.href = "tel:" + found.replace(/-/g, "");
      } else {
        link = linkTo(/^https?:\/\//i.test(found) ? found : "https://" + found);
        link.textContent = found;
      }
      parent.appendChild(link);
      last = offset + found.length;
      return match;
    });
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // Assistant and staff messages: a line that is only the address of an image shows the image.
  var IMAGE_FILE = /\.(png|jpe?g|gif|webp)$/i;

  function imageAddress(line) {
    var candidate = line.trim();
    if (!/^https?:\/\/\S+$/i.test(candidate)) return null;
    var url;
    try { url = new URL(candidate); } catch (e) { return null; }
    if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    return IMAGE_FILE.test(url.pathname) ? url.href : null;
  }

  function linkTo(address) {
    var link = el("a", "rc-link", address);
    link.href = address;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    return link;
  }

  function image(address) {
    var img = el("img", "rc-image");
    img.alt = t("image_alt");
    img.referrerPolicy = "no-referrer";
    img.decoding = "async";
    img.addEventListener("load", function () { ui.log.scrollTop = ui.log.scrollHeight; });
    img.addEventListener("error", function () {  // unreachable or refused: the address, as a link
      if (img.parentNode) img.parentNode.replaceChild(linkTo(address), img);
    });
    img.src = address;
    return img;
  }

  // The image is a block of its own: blank lines around it are dropped.
  function appendBody(parent, text, images) {
    var pending = [];
    var afterImage = false;
    var flush = function () {
      while (pending.length && !pending[pending.length - 1].trim()) pending.pop();
      if (pending.length) appendText(parent, pending.join("\n"));
      pending = [];
    };
    String(text).split("\n").forEach(function (line) {
      var address = images ? imageAddress(line) : null;
      if (address) {
        flush();
        parent.appendChild(image(address));
        afterImage = true;
      } else if (!(afterImage && !pending.length && !line.trim())) {
        pending.push(line);
      }
    });
    if (afterImage) flush();
    else if (pending.length) appendText(parent, pending.join("\n"));
  }

  // -- the API -------------------------------------------------------------------------------

  function call(method, path, body, signal) {
    var headers = {};
    if (token) headers.Authorization = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(API + path, {
      method: method, headers: headers, credentials: "omit", mode: "cors",
      body: body === undefined ? undefined : JSON.stringify(body), signal: signal,
    });
  }

  function startSession() {
    return call("POST", "/sessions", { language: language }).then(function (r) {
      if (!r.ok) throw new Error("session " + r.status);
      return r.json();
    }).then(function (data) {
      token = data.token;
      storage("local", "token", token);
      lastId = 0;
      stopPolling();  // a read of the old session must not hold up the new one's
      return token;
    });
  }

  function forgetSession() {
    token = null;
    storage("local", "token", null);
    stopPolling();
  }

  function stopPolling() {
    if (pollRequest) pollRequest.abort();
    pollRequest = null;
  }

  // The server refused a token (401): the session expired (or the server forgot it). The next
  // message starts a new session; the old messages leave the panel and a note says why.
  function expired(used) {
    if (token !== used) return;  // a new session has already replaced it
    forgetSession();
    Array.prototype.forEach.call(ui.log.querySelectorAll(".rc-msg[data-id], .rc-note"), function (item) {
      item.parentNode.removeChild(item);
    });
    showButtons([]);
    ui.log.appendChild(el("p", "rc-note", t("expired")));
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  // Long polling. A read belongs to the session it was started with: when that session is
  // replaced (it expired), the read is cancelled and its answer, if any, ignored.
  function poll(wait) {
    if (!token || polling) return;
    polling = true;
    var used = token;
    var controller = window.AbortController ? new window.AbortController() : null;
    pollRequest = controller;
    var done = function () {
      polling = false;
      if (pollRequest === controller) pollRequest = null;
      if (token === used) return false;
      poll(0);  // the session changed while this read was out: read the new one at once
      return true;
    };
    call("GET", "/messages?after=" + lastId + "&wait=" + wait, undefined, controller ? controller.signal : undefined)
      .then(function (r) {
        if (token !== used) return null;
        if (r.status === 401) { expired(used); return null; }
        if (!r.ok) throw new Error("poll " + r.status);
        return r.json();
      }).then(function (data) {
        if (done() || !data) return;
        setStatus("");
        retryDelay = 1000;
        if (data.language && pickLanguage(data.language) !== language) setLanguage(pickLanguage(data.language));
        data.messages.forEach(showMessage);
        poll(POLL_WAIT);
      }).catch(function () {
        if (done()) return;
        setStatus(t("error_connection"));
        window.setTimeout(function () { poll(POLL_WAIT); }, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30000);
      });
  }

  function send(text, fromButton) {
    text = text.trim();
    if (!text) return;
    var clientId = newClientId();
    ui.send.disabled = true;
    setStatus(t("sending"));
    var ready = token ? Promise.resolve(token) : startSession();
    var attempt = function (tries) {
      var used = token;
      return call("POST", "/messages", { text: text, client_id: clientId }).then(function (r) {
        if (r.status === 401 && tries > 0) {  // the session is gone: start a new one, once
          expired(used);
          return (token ? Promise.resolve(token) : startSession()).then(function () { return attempt(tries - 1); });
        }
        return r;
      }, function (error) {  // network failure: the same client id makes a retry safe
        if (tries > 0) return attempt(tries - 1);
        throw error;
      });
    };
    ready.then(function () { return attempt(1); }).then(function (r) {
      ui.send.disabled = false;
      if (r.status === 202) {
        setStatus("");
        if (!fromButton) ui.input.value = "";
        poll(0);
      } else if (r.status === 413) {
        setStatus(t("error_too_long"));
      } else if (r.status === 429) {
        setStatus(t("error_too_fast"));
      } else {
        setStatus(t("error_send"));
      }
    }).catch(function () {
      ui.send.disabled = false;
      setStatus(t("error_send"));
    });
  }

  // -- the page ------------------------------------------------------------------------------

  function setStatus(text) {
    if (ui.status.textContent !== text) ui.status.textContent = text;
  }

  function authorLabel(message) {
    if (message.direction === "in") return t("you");
    return message.author === "staff" ? t("staff") : t("assistant");
  }

  function addBubble(direction, label, text) {
    var item = el("div", "rc-msg " + (direction === "in" ? "rc-in" : "rc-out"));
    item.appendChild(el("span", "rc-who", label));
    var body = el("p", "rc-text");
    appendBody(body, text, direction !== "in");
    item.appendChild(body);
    ui.log.appendChild(item);
    ui.log.scrollTop = ui.log.scrollHeight;
    return item;
  }

  function showButtons(titles) {
    ui.quick.textContent = "";
    ui.quick.hidden = !titles.length;
    titles.forEach(function (title) {
      var button = el("button", "rc-choice", title);
      button.type = "button";
      button.addEventListener("click", function () {
        showButtons([]);
        ui.input.focus();
        send(title, true);
      });
      ui.quick.appendChild(button);
    });
  }

  function showMessage(message) {
    if (seen[message.id]) return;
    seen[message.id] = true;
    lastId = Math.max(lastId, message.id);
    if (message.direction === "in") {
      showButtons([]);  // the resident moved on: older choices no longer apply
    } else if (message.buttons && message.buttons.length) {
      showButtons(message.buttons);
    }
    var item = addBubble(message.direction, authorLabel(message), message.text || "");
    item.dataset.id = String(message.id);
    item.dataset.author = message.direction === "in" ? "resident" : message.author;
    if (message.direction !== "in" && ui.panel.hidden) {
      unread += 1;
      ui.badge.textContent = String(unread);
      ui.badge.hidden = ui.badgeLabel.hidden = false;
    }
  }

  function setLanguage(code) {
    language = code;
    ui.root.lang = code;
    ui.launcherText.textContent = t("open");
    ui.badgeLabel.textContent = t("new_messages");
    ui.title.textContent = t("title");
    ui.close.setAttribute("aria-label", t("close"));
    ui.emergency.textContent = t("emergency");
    ui.notice.textContent = t("not_emergency");
    ui.log.setAttribute("aria-label", t("log_label"));
    ui.quick.setAttribute("aria-label", t("options"));
    ui.label.textContent = t("input_label");
    ui.input.placeholder = t("placeholder");
    ui.send.textContent = t("send");
    Array.prototype.forEach.call(ui.log.querySelectorAll(".rc-image"), function (img) { img.alt = t("image_alt"); });
    Array.prototype.forEach.call(ui.log.querySelectorAll(".rc-note"), function (note) {
      note.textContent = t("expired");
    });
    ui.greeting.querySelector(".rc-who").textContent = t("assistant");
    if (!options.greeting) {
      var text = ui.greeting.querySelector(".rc-text");
      text.textContent = "";
      appendText(text, t("greeting"));
    }
    Array.prototype.forEach.call(ui.log.querySelectorAll(".rc-msg[data-id]"), function (item) {
      item.querySelector(".rc-who").textContent = authorLabel({
        direction: item.classList.contains("rc-in") ? "in" : "out", author: item.dataset.author });
    });
  }

  function open() {
    ui.panel.hidden = false;
    ui.root.classList.add("rc-open");
    ui.launcher.setAttribute("aria-expanded", "true");
    storage("session", "open", "1");
    unread = 0;
    ui.badge.hidden = ui.badgeLabel.hidden = true;
    ui.log.scrollTop = ui.log.scrollHeight;
    ui.input.focus();
  }

  function close() {
    ui.panel.hidden = true;
    ui.root.classList.remove("rc-open");
    ui.launcher.setAttribute("aria-expanded", "false");
    storage("session", "open", null);
    ui.launcher.focus();
  }

  function build() {
    var root = ui.root = el("div", "rc-root rc-" + (options.position === "left" ? "left" : "right"));
    root.style.setProperty("--rc-accent", accentColor(options.color));

    var launcher = ui.launcher = el("button", "rc-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "rc-panel");
    ui.launcherText = launcher.appendChild(el("span", "rc-launcher-text"));
    ui.badge = launcher.appendChild(el("span", "rc-badge"));
    ui.badge.hidden = true;
    ui.badge.setAttribute("aria-hidden", "true");
    ui.badgeLabel = launcher.appendChild(el("span", "rc-sr"));
    ui.badgeLabel.hidden = true;

    var panel = ui.panel = el("section", "rc-panel");
    panel.id = "rc-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", "rc-title");

    var header = panel.appendChild(el("div", "rc-header"));
    ui.title = header.appendChild(el("h2", "rc-title"));
    ui.title.id = "rc-title";
    ui.close = header.appendChild(el("button", "rc-close", "\u00d7"));
    ui.close.type = "button";

    var line = panel.appendChild(el("p", "rc-emergency"));
    ui.emergency = line.appendChild(el("a", "rc-emergency-link"));
    ui.emergency.href = "tel:911";
    ui.notice = panel.appendChild(el("p", "rc-notice"));

    ui.log = panel.appendChild(el("div", "rc-log"));
    ui.log.setAttribute("role", "log");
    ui.log.setAttribute("aria-live", "polite");
    ui.log.setAttribute("tabindex", "0");
    ui.greeting = addBubble("out", "", options.greeting || "");
    ui.greeting.classList.add("rc-greeting");

    ui.quick = panel.appendChild(el("div", "rc-quick"));
    ui.quick.setAttribute("role", "group");
    ui.quick.hidden = true;

    ui.status = panel.appendChild(el("p", "rc-status"));
    ui.status.setAttribute("role", "status");

    var form = panel.appendChild(el("form", "rc-form"));
    ui.label = form.appendChild(el("label", "rc-label"));
    ui.label.htmlFor = "rc-input";
    ui.input = form.appendChild(el("textarea", "rc-input"));
    ui.input.id = "rc-input";
    ui.input.rows = 2;
    ui.input.maxLength = 1600;
    ui.input.autocomplete = "off";
    ui.send = form.appendChild(el("button", "rc-send"));
    ui.send.type = "submit";

    root.appendChild(panel);
    root.appendChild(launcher);

    launcher.addEventListener("click", function () { if (panel.hidden) open(); else close(); });
    ui.close.addEventListener("click", close);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); close(); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(ui.input.value, false);
    });
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send(ui.input.value, false);
      }
    });
    document.body.appendChild(root);
  }

  function start(loaded) {
    strings = loaded;
    language = pickLanguage(options.language || document.documentElement.lang);
    build();
    setLanguage(language);
    if (storage("session", "open") === "1") open();
    if (token) poll(0);
  }

  var stylesheet = el("link");
  stylesheet.rel = "stylesheet";
  stylesheet.href = ORIGIN + "/static/widget.css";
  document.head.appendChild(stylesheet);

  fetch(API + "/strings", { credentials: "omit", mode: "cors" })
    .then(function (r) { if (!r.ok) throw new Error("strings " + r.status); return r.json(); })
    .then(function (loaded) {
      if (document.body) start(loaded);
      else document.addEventListener("DOMContentLoaded", function () { start(loaded); });
    })
    .catch(function () { /* the chat service is unreachable: show nothing rather than a broken chat */ });
})();
