/* Web chat page. Plain ES2017, no libraries. Bot and user text is only ever inserted as text nodes
   (never innerHTML); bot URLs, official .gov.vn addresses and 1800/1900 hotlines become links. */
(function () {
  "use strict";

  var REST_URL = "../rest/webhook";          // same origin: /webhooks/rest/webhook
  var TIMEOUT_MS = 60000;
  // A connection cut before any answer (a Rasa server killed mid-turn, a network blip) is sent once more after this
  // pause before the resident sees the error line: Rasa stores a turn only at its end, so the cut message was never
  // stored (docs/scaling.md, "Faults under load"). An HTTP error or the timeout is not retried.
  var RETRY_AFTER_MS = 500;
  var SENDER_KEY = "webchat.sender";
  var BIG_KEY = "webchat.bigText";
  var TICKET_KEY = "webchat.ticket";         // an open ticket: staff replies are fetched from the inbox
  var INBOX_AFTER_KEY = "webchat.inboxAfter"; // the last staff message shown
  var INBOX_URL = "inbox";                   // same origin: /webhooks/webchat/inbox
  var SCREEN_URL = "screen";                 // same origin: /webhooks/webchat/screen (a picture's raw bytes)
  var MAX_PICTURE_BYTES = 10 * 1024 * 1024;  // the server refuses more; say so before uploading
  var PICTURE_SHOWN = "📷 (ảnh màn hình)";
  var PICTURE_TOO_BIG = "Ảnh này lớn quá (hơn 10 MB). Bạn chụp lại màn hình, hoặc gõ chữ trên màn hình giúp tôi.";
  var SENDER_HEADER = "X-Webchat-Sender";    // the id is a secret: a header, never the URL (proxy logs)
  var SENDER_RE = /^web-[0-9a-f]{24}$/;      // what newSenderId makes: 96 random bits
  var POLL_MS = 5000;
  var POLL_HIDDEN_MS = 20000;                // a tab in the background asks less often
  var STAFF_LABEL = "Cán bộ hỗ trợ";
  var ERROR_TEXT = "Xin lỗi, không kết nối được với trợ lý. Bạn kiểm tra mạng rồi thử lại sau ít phút, " +
    "hoặc nhờ Tổ công nghệ số cộng đồng, công an xã/phường hỗ trợ.";
  var EMPTY_TEXT = "Trợ lý chưa gửi câu trả lời. Bạn thử hỏi lại nhé.";

  function store(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(key);
      if (value === null) window.localStorage.removeItem(key); else window.localStorage.setItem(key, value);
    } catch (e) { /* private mode or storage off: the page still works for this visit */ }
    return null;
  }

  // Large text is applied at once, before the page is drawn, so it never flickers.
  if (store(BIG_KEY) === "1") document.documentElement.classList.add("big");

  function newSenderId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);  // works on plain http too, unlike crypto.randomUUID
    return "web-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  var memorySender = null;
  function senderId() {
    var id = store(SENDER_KEY) || memorySender;
    if (!id || !SENDER_RE.test(id)) {        // none yet, or not one this page made: a fresh random one
      id = newSenderId();
      memorySender = id;
      store(SENDER_KEY, id);
    }
    return id;
  }

  // ---- Turning bot text into text nodes and safe links ------------------------------------------------

  // 1: a web address; 2: an official site written without http (dichvucong.gov.vn); 3: a 1800/1900 hotline.
  var LINK_RE = /(https?:\/\/[^\s<>"']+)|((?:[a-z0-9-]+\.)+gov\.vn(?:\/[^\s<>"']*)?)|(\b1[89]00(?:[ .]?\d){4,6}\b)/gi;
  var TRAILING = /[.,;:!?…»”’"')\]]+$/;

  // Punctuation after an address belongs to the sentence, except a ")" that closes a "(" inside
  // the address itself (…/Trang_(1)).
  function trimUrl(url) {
    var tail = TRAILING.exec(url);
    if (!tail) return url;
    var kept = url.slice(0, tail.index);
    var open = kept.split("(").length - 1;
    var closed = kept.split(")").length - 1;
    for (var i = 0; i < tail[0].length && tail[0].charAt(i) === ")" && open > closed; i++, closed++) kept += ")";
    return kept;
  }

  // Split text into pieces: {text} or {text, href, kind}. Exposed for tests as WebChat.linkPieces.
  function linkPieces(text) {
    var pieces = [];
    var last = 0;
    var m;
    LINK_RE.lastIndex = 0;
    while ((m = LINK_RE.exec(text)) !== null) {
      var start = m.index;
      var raw = m[0];
      var href = null;
      var kind = null;
      if (m[1]) {
        raw = trimUrl(raw);
        href = raw;
        kind = "url";
      } else if (m[2]) {
        var before = start > 0 ? text.charAt(start - 1) : "";
        if (/[\w@\/.-]/.test(before)) continue;  // part of an e-mail address or a longer word
        raw = raw.replace(TRAILING, "");
        href = "https://" + raw;
        kind = "url";
      } else {
        href = "tel:" + raw.replace(/\D/g, "");
        kind = "tel";
      }
      if (!raw) continue;
      if (start > last) pieces.push({ text: text.slice(last, start) });
      pieces.push({ text: raw, href: href, kind: kind });
      last = start + raw.length;
      LINK_RE.lastIndex = last;
    }
    if (last < text.length) pieces.push({ text: text.slice(last) });
    return pieces;
  }

  function appendLinked(parent, text) {
    linkPieces(text).forEach(function (p) {
      if (!p.href) {
        parent.appendChild(document.createTextNode(p.text));
        return;
      }
      var a = document.createElement("a");
      a.href = p.href;                       // only http(s):// or tel:, built above
      a.textContent = p.text;
      if (p.kind === "url") {
        a.target = "_blank";
        a.rel = "noopener noreferrer";
      }
      parent.appendChild(a);
    });
  }

  // ---- The page ------------------------------------------------------------------------------------

  var log, form, input, sendButton, statusLine, bigButton;
  var busy = false;

  // A long reply is shown from its first line (the answer's title), anything short at the bottom.
  function scrollToShow(first) {
    var room = window.innerHeight - form.offsetHeight;
    var height = first ? log.lastElementChild.getBoundingClientRect().bottom - first.getBoundingClientRect().top : 0;
    if (first && height > room * 0.6) {
      first.scrollIntoView({ block: "start" });
    } else {
      window.scrollTo(0, document.documentElement.scrollHeight);
    }
  }

  function addMessage(who, text, buttons) {
    var box = document.createElement("div");
    box.className = "msg msg-" + who;
    box.setAttribute("data-from", who);
    var label = document.createElement("span");
    label.className = "sr-only";
    label.textContent = who === "user" ? "Bạn: " : "Trợ lý: ";
    if (who === "staff") {                   // a person answering the resident's ticket, shown as such
      box.className = "msg msg-bot msg-staff";
      label.className = "msg-from";
      label.textContent = STAFF_LABEL;
    }
    box.appendChild(label);
    var body = document.createElement("div");
    body.className = "msg-text";
    if (who === "bot" || who === "staff") appendLinked(body, text); else body.textContent = text;
    box.appendChild(body);
    if (buttons && buttons.length) {
      var group = document.createElement("div");
      group.className = "choices";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Lựa chọn");
      buttons.forEach(function (b) {
        if (!b || typeof b.title !== "string" || typeof b.payload !== "string") return;
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "choice";
        btn.textContent = b.title;
        btn.setAttribute("data-payload", b.payload);
        group.appendChild(btn);
      });
      box.appendChild(group);
    }
    log.appendChild(box);
    if (who !== "bot") scrollToShow(null);
    return box;
  }

  // A spoken reply ({"custom": {"audio": {"url": ".../audio/<hash>.ogg", "mp3": ...}}}, bot/speech/tts.py) becomes a
  // player. Only our own hashed file names are used, always relative to this page (CSP: media-src 'self').
  var AUDIO_NAME_RE = /^[0-9a-f]{32}\.(ogg|mp3)$/;

  function audioName(url) {
    var name = typeof url === "string" ? url.split("/").pop() : "";
    return AUDIO_NAME_RE.test(name) ? name : null;
  }

  function addAudio(audio, box) {
    var ogg = audioName(audio.url);
    var mp3 = audioName(audio.mp3);
    if (!ogg && !mp3) return null;
    if (!box) {
      box = document.createElement("div");
      box.className = "msg msg-bot";
      box.setAttribute("data-from", "bot");
      log.appendChild(box);
    }
    var player = document.createElement("audio");
    player.controls = true;
    player.preload = "metadata";
    player.className = "reply-audio";
    player.setAttribute("aria-label", "Nghe câu trả lời" + (typeof audio.title === "string" ? ": " + audio.title : ""));
    [[ogg, "audio/ogg; codecs=opus"], [mp3, "audio/mpeg"]].forEach(function (s) {
      if (!s[0]) return;
      var source = document.createElement("source");
      source.src = "audio/" + s[0];
      source.type = s[1];
      player.appendChild(source);
    });
    box.appendChild(player);
    var started = player.play();  // the resident just pressed "Nghe"; if the browser says no, the controls stay
    if (started && started.catch) started.catch(function () {});
    return box;
  }

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
    statusLine.textContent = on ? "Trợ lý đang trả lời…" : "";
    statusLine.classList.toggle("busy", on);
    var pressable = document.querySelectorAll(".choice, .chip");
    for (var i = 0; i < pressable.length; i++) {
      if (on) pressable[i].setAttribute("aria-disabled", "true"); else pressable[i].removeAttribute("aria-disabled");
    }
  }

  // ---- Staff replies to a ticket: the page asks its inbox every few seconds while a ticket is open --------

  var pollTimer = null;

  function stopPolling() {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
  }

  function schedulePoll(ms) {
    stopPolling();
    pollTimer = setTimeout(pollInbox, ms === undefined ? (document.hidden ? POLL_HIDDEN_MS : POLL_MS) : ms);
  }

  function startPolling(code) {
    if (typeof code === "string" && code) store(TICKET_KEY, code);
    if (!pollTimer) schedulePoll(0);
  }

  async function pollInbox() {
    pollTimer = null;
    if (!store(TICKET_KEY)) return;
    var sender = senderId();
    var after = store(INBOX_AFTER_KEY);
    var url = INBOX_URL + (after ? "?after=" + encodeURIComponent(after) : "");
    var headers = { "Accept": "application/json" };
    headers[SENDER_HEADER] = sender;
    try {
      var res = await fetch(url, { headers: headers, cache: "no-store" });
      if (res.status === 400) { store(TICKET_KEY, null); return; }  // not a page conversation: nothing to fetch
      if (!res.ok) throw new Error("HTTP " + res.status);
      var data = await res.json();
      if (sender !== senderId()) return;     // "Trò chuyện mới" meanwhile: these were for the old conversation
      var first = null;
      (Array.isArray(data.messages) ? data.messages : []).forEach(function (m) {
        if (!m || typeof m.text !== "string" || typeof m.id !== "number") return;
        if (after && m.id <= Number(after)) return;
        var box = addMessage("staff", m.text);
        if (!first) first = box;
        after = String(m.id);
        store(INBOX_AFTER_KEY, after);
      });
      if (first) scrollToShow(first);
      if (data.open === false && !first) { store(TICKET_KEY, null); return; }  // closed, and everything shown
    } catch (e) { /* offline for a moment: try again later */ }
    schedulePoll();
  }

  function showReply(messages) {
    var shown = 0;
    var quiet = false;
    var first = null;
    var previous = null;
    (Array.isArray(messages) ? messages : []).forEach(function (m) {
      if (!m || typeof m !== "object") return;
      if (m.custom && typeof m.custom === "object" && m.custom.ticket && typeof m.custom.ticket === "object") {
        quiet = true;                        // the message went to the staff: no reply is due now
        startPolling(m.custom.ticket.code);
        return;
      }
      if (m.custom && typeof m.custom === "object" && m.custom.audio && typeof m.custom.audio === "object") {
        var withAudio = addAudio(m.custom.audio, previous);  // under the line that announces it
        if (withAudio && !first) first = withAudio;
        if (withAudio) shown++;
        return;
      }
      var text = typeof m.text === "string" ? m.text : "";
      if (typeof m.image === "string" && /^https?:\/\//i.test(m.image)) text += (text ? "\n" : "") + m.image;
      var buttons = Array.isArray(m.buttons) ? m.buttons : [];
      if (!text && !buttons.length) return;
      var box = addMessage("bot", text, buttons);
      previous = buttons.length ? null : box;
      if (!first) first = box;
      shown++;
    });
    if (shown) scrollToShow(first); else if (!quiet) addMessage("error", EMPTY_TEXT);
  }

  async function send(message, shownAs) {
    if (busy || !message.trim()) return false;
    addMessage("user", shownAs || message);
    setBusy(true);
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var ok = false;
    try {
      var post = function () {
        return fetch(REST_URL, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ sender: senderId(), message: message }),
          signal: controller ? controller.signal : undefined
        });
      };
      var res;
      try {
        res = await post();
      } catch (cut) {
        if (controller && controller.signal.aborted) throw cut;
        await new Promise(function (resolve) { setTimeout(resolve, RETRY_AFTER_MS); });
        res = await post();
      }
      if (!res.ok) throw new Error("HTTP " + res.status);
      showReply(await res.json());
      ok = true;
    } catch (e) {
      addMessage("error", ERROR_TEXT);
    } finally {
      if (timer) clearTimeout(timer);
      setBusy(false);
    }
    return ok;
  }

  async function sendPicture(file) {
    if (busy || !file) return;
    addMessage("user", PICTURE_SHOWN);
    if (file.size > MAX_PICTURE_BYTES) { addMessage("bot", PICTURE_TOO_BIG); return; }
    setBusy(true);
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var headers = { "Content-Type": "application/octet-stream" };
    headers[SENDER_HEADER] = senderId();
    try {
      var res = await fetch(SCREEN_URL, {
        method: "POST", headers: headers, body: file, signal: controller ? controller.signal : undefined
      });
      if (!res.ok) throw new Error("HTTP " + res.status);
      showReply(await res.json());
    } catch (e) {
      addMessage("error", ERROR_TEXT);
    } finally {
      if (timer) clearTimeout(timer);
      setBusy(false);
    }
  }

  async function sendTyped() {
    var text = input.value;
    if (busy || !text.trim()) return;
    input.value = "";
    var ok = await send(text);
    if (!ok && !input.value) input.value = text;  // give the question back so Gửi tries again
  }

  function onPress(event) {
    var btn = event.target.closest ? event.target.closest(".choice, .chip") : null;
    if (!btn || busy) return;
    var payload = btn.getAttribute("data-payload");
    var message = btn.getAttribute("data-message");
    if (payload) send(payload, btn.textContent); else if (message) send(message);
  }

  function setBig(on) {
    document.documentElement.classList.toggle("big", on);
    bigButton.setAttribute("aria-pressed", on ? "true" : "false");
    store(BIG_KEY, on ? "1" : null);
  }

  function restart() {
    if (busy) return;
    var old = log.querySelectorAll("[data-from=user], [data-from=bot], [data-from=staff], [data-from=error]");
    for (var i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
    memorySender = null;
    store(SENDER_KEY, null);
    stopPolling();
    store(TICKET_KEY, null);
    store(INBOX_AFTER_KEY, null);
    statusLine.textContent = "Đã bắt đầu cuộc trò chuyện mới.";
    window.scrollTo(0, 0);
    input.focus();
  }

  function start() {
    log = document.getElementById("log");
    form = document.getElementById("composer");
    input = document.getElementById("message");
    sendButton = document.getElementById("send");
    statusLine = document.getElementById("status");
    bigButton = document.getElementById("bigger");

    bigButton.setAttribute("aria-pressed", document.documentElement.classList.contains("big") ? "true" : "false");
    bigButton.addEventListener("click", function () {
      setBig(!document.documentElement.classList.contains("big"));
    });
    document.getElementById("restart").addEventListener("click", restart);
    var picture = document.getElementById("picture");
    document.getElementById("attach").addEventListener("click", function () { if (!busy) picture.click(); });
    picture.addEventListener("change", function () {
      var file = picture.files && picture.files[0];
      picture.value = "";  // the same picture can be chosen again
      sendPicture(file);
    });
    log.addEventListener("click", onPress);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendTyped();
    });
    if (store(TICKET_KEY)) startPolling();  // a ticket opened before this page was (re)loaded
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && pollTimer) schedulePoll(0);  // back to the tab: fetch at once
    });
    input.addEventListener("keydown", function (event) {
      // Enter sends, Shift+Enter is a new line; never while a Vietnamese input method is composing.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        sendTyped();
      }
    });
  }

  window.WebChat = { linkPieces: linkPieces, senderId: senderId };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
