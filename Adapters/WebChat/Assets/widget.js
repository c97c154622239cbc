/* Switchboard web chat widget. One tag, no dependencies:
 *   <script src="https://HUB/webchat/widget.js" data-site="default" async></script>
 * Optional: data-hub, data-lang (en|zh), data-name, data-email, data-identifier + data-signature
 * (or SwitchboardWidget.identify(identifier, signature) once the page signs the visitor in).
 * Talks to the visitor API under /webchat/v1: WebSocket first, long polling as the fallback.
 * Message text is only ever rendered as text (textContent / text nodes), never as HTML. */
(() => {
  "use strict";
  if (window.SwitchboardWidget) return; // loaded twice

  // ---- Configuration from the script tag ----
  const script = document.currentScript || document.querySelector('script[src*="webchat/widget.js"]');
  const conf = (script && script.dataset) || {};
  const site = conf.site || "default";
  let hub = location.origin;
  try { hub = conf.hub ? conf.hub.replace(/\/+$/, "") : new URL(script.src, location.href).origin; } catch (_) { /* keep the page's origin */ }
  const storeKey = `switchboard:${hub}:${site}`;
  const MAX_TEXT = 4000;

  // ---- Strings ----
  const STRINGS = {
    en: {
      title: "Chat with us", unread: "{n} unread", close: "Close chat", end: "End chat",
      intro: "Hi! Tell us who you are (optional), or just type your question below.",
      ended: "The chat has ended. Start a new one any time.",
      name: "Name (optional)", email: "Email (optional)", start: "Start chat",
      log: "Conversation", you: "You: ", agent: "Agent: ",
      input: "Message", placeholder: "Type your message…", send: "Send",
      sending: "Sending…", notSent: "Not sent yet, will retry", failed: "Not sent",
      typing: "Agent is typing…", connecting: "Connecting…", reconnecting: "Connection lost. Reconnecting…",
      offline: "No agents are online right now. Leave your email address and we will reply there. You can still write to us below.",
      closed: "We are closed right now{until}. Leave your email address and we will reply there. You can still write to us below.",
      until: " and open again {time}",
      yourEmail: "Your email", save: "Save", saved: "Thanks! We will reply to {email}.",
      badEmail: "Please enter a valid email address.",
      rateLimited: "You are sending messages too quickly. Please wait a moment.",
      tooLong: "Your message is too long (at most 4000 characters).",
      notAllowed: "Chat is not available on this website.",
      network: "Cannot reach the chat server. Retrying…",
      error: "Something went wrong. Please try again.",
    },
    zh: {
      title: "在线客服", unread: "{n} 条未读消息", close: "关闭对话窗口", end: "结束对话",
      intro: "您好！可以留下称呼和邮箱（选填），或直接在下方输入您的问题。",
      ended: "对话已结束，您可以随时开始新的对话。",
      name: "称呼（选填）", email: "邮箱（选填）", start: "开始对话",
      log: "对话记录", you: "我：", agent: "客服：",
      input: "消息", placeholder: "请输入消息…", send: "发送",
      sending: "发送中…", notSent: "尚未发送，将自动重试", failed: "发送失败",
      typing: "客服正在输入…", connecting: "正在连接…", reconnecting: "连接已断开，正在重新连接…",
      offline: "目前没有客服在线。请留下邮箱地址，我们会通过邮件回复您。您仍可在下方留言。",
      closed: "现在不是服务时间{until}。请留下邮箱地址，我们会通过邮件回复您。您仍可在下方留言。",
      until: "，我们将于 {time} 恢复服务",
      yourEmail: "您的邮箱", save: "保存", saved: "谢谢！我们会回复至 {email}。",
      badEmail: "请输入有效的邮箱地址。",
      rateLimited: "您发送消息过于频繁，请稍后再试。",
      tooLong: "消息过长（最多 4000 个字符）。",
      notAllowed: "本网站无法使用在线客服。",
      network: "无法连接到客服服务器，正在重试…",
      error: "出现问题，请重试。",
    },
  };
  const lang = (() => {
    const forced = (conf.lang || "").toLowerCase();
    for (const l of forced ? [forced] : navigator.languages || [navigator.language || "en"]) {
      const s = String(l).toLowerCase();
      if (s.startsWith("zh")) return "zh";
      if (s.startsWith("en")) return "en";
    }
    return "en";
  })();
  const S = STRINGS[lang];
  const fmt = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));

  // ---- Styles (everything under #sbw-root; host page styles are reverted inside) ----
  const CSS = `
#sbw-root{all:initial;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"PingFang SC","Microsoft YaHei",sans-serif;color:#1f2328}
#sbw-root *{all:revert;box-sizing:border-box}
#sbw-root [hidden]{display:none!important}
#sbw-root button,#sbw-root input,#sbw-root textarea{font:inherit;color:inherit;margin:0}
#sbw-root :focus-visible{outline:2px solid #fff;box-shadow:0 0 0 4px #111827}
#sbw-root .sbw-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
#sbw-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;padding:0;border:0;border-radius:50%;background:#1d4ed8;color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.3)}
#sbw-launcher:hover{background:#1e40af}
#sbw-root .sbw-icon{position:relative;width:24px;height:18px;border-radius:6px;background:#fff}
#sbw-root .sbw-icon::after{content:"";position:absolute;left:4px;bottom:-6px;border-style:solid;border-width:7px 7px 0 0;border-color:#fff transparent transparent}
#sbw-root.sbw-is-open .sbw-icon{width:20px;height:20px;background:none}
#sbw-root.sbw-is-open .sbw-icon::before,#sbw-root.sbw-is-open .sbw-icon::after{content:"";position:absolute;left:9px;top:0;bottom:auto;width:2px;height:20px;border:0;background:#fff;transform:rotate(45deg)}
#sbw-root.sbw-is-open .sbw-icon::after{transform:rotate(-45deg)}
#sbw-badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border:2px solid #fff;border-radius:11px;background:#c81e1e;color:#fff;font-size:12px;font-weight:700;line-height:18px;text-align:center}
#sbw-panel{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:370px;max-width:calc(100vw - 24px);height:560px;max-height:calc(100vh - 108px);display:flex;flex-direction:column;overflow:hidden;background:#fff;color:#1f2328;border:1px solid #d0d7de;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.28)}
@media (max-width:480px){#sbw-panel{inset:0;width:auto;max-width:none;height:auto;max-height:none;border:0;border-radius:0}#sbw-root.sbw-is-open #sbw-launcher{display:none}}
#sbw-root .sbw-head{display:flex;align-items:center;gap:8px;padding:10px 10px 10px 16px;background:#1d4ed8;color:#fff}
#sbw-root .sbw-title{flex:1;margin:0;font-size:16px;font-weight:600}
#sbw-root .sbw-head button{padding:4px 10px;border:1px solid #fff;border-radius:6px;background:transparent;color:#fff;font-size:13px;cursor:pointer}
#sbw-root .sbw-head button:hover{background:#1e3a8a}
#sbw-root #sbw-close{border-color:transparent;font-size:20px;line-height:1}
#sbw-root .sbw-note{margin:0;padding:6px 14px;font-size:13px}
#sbw-status{background:#eef2ff;color:#1e3a8a}
#sbw-error{background:#fde8e8;color:#8a1c1c}
#sbw-offline{padding:10px 14px;font-size:14px;background:#fff7e6;border-bottom:1px solid #d4a72c}
#sbw-offline p{margin:0}
#sbw-root .sbw-row{display:flex;gap:6px;margin-top:6px}
#sbw-root .sbw-row input{flex:1;min-width:0}
#sbw-root input{display:block;width:100%;padding:7px 9px;border:1px solid #6e7781;border-radius:6px;background:#fff}
#sbw-root .sbw-btn{padding:8px 14px;border:0;border-radius:8px;background:#1d4ed8;color:#fff;font-weight:600;cursor:pointer}
#sbw-root .sbw-btn:hover{background:#1e40af}
#sbw-root .sbw-body{flex:1;overflow-y:auto;padding:12px;background:#f6f8fa}
#sbw-prechat{margin:0 0 12px;padding:12px;background:#fff;border:1px solid #d0d7de;border-radius:10px}
#sbw-prechat p{margin:0 0 4px}
#sbw-root .sbw-label{display:block;margin:10px 0 4px;font-size:13px;font-weight:600}
#sbw-start{margin-top:12px}
#sbw-messages{display:flex;flex-direction:column;gap:6px}
#sbw-root .sbw-msg{position:relative;max-width:82%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}
#sbw-root .sbw-msg::before{content:attr(data-who);position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
#sbw-root .sbw-from-visitor{align-self:flex-end;background:#1d4ed8;color:#fff;border-bottom-right-radius:4px}
#sbw-root .sbw-from-agent{align-self:flex-start;background:#e6eaef;color:#1f2328;border-bottom-left-radius:4px}
#sbw-root .sbw-msg.sbw-pending{background:#64748b}
#sbw-root .sbw-msg.sbw-failed{background:#b42318}
#sbw-root .sbw-pending::after,#sbw-root .sbw-failed::after{content:attr(data-status);display:block;margin-top:2px;font-size:12px}
#sbw-typing{margin:0;padding:4px 14px;font-size:13px;font-style:italic;color:#57606a}
#sbw-form{display:flex;align-items:flex-end;gap:8px;margin:0;padding:10px;background:#fff;border-top:1px solid #d0d7de}
#sbw-input{flex:1;min-height:40px;max-height:120px;padding:9px 10px;resize:none;border:1px solid #6e7781;border-radius:8px;background:#fff;white-space:pre-wrap}
`;

  // ---- State ----
  let token = null, visitorId = null, seen = null; // persisted per hub + site; seen = last id shown to the visitor
  let mode = "websocket";                          // "longpoll" for good after 3 failed WebSocket opens
  let connected = false, everConnected = false, lastId = null;
  let agentsOnline = null, closed = false, opensAt = null, isOpen = false, unread = 0, ended = false;
  const shown = new Set();   // message ids on screen
  const pending = new Map(); // clientId -> {text, el, gen}: sent but not acknowledged yet
  let ws = null, wsGen = 0, wsReady = false, wsEverOpened = false, wsOpenFailures = 0, attempt = 0, awaitingPong = false;
  let reconnectTimer = 0, pingTimer = 0, flushTimer = 0, typingTimer = 0, errorTimer = 0;
  let pollGen = 0, creating = null, flushing = false, lastTypingSent = 0;
  let root, launcher, badge, panel, endBtn, statusEl, errorEl, offlineEl, offlineText, emailForm, emailIn, emailSaved;
  let body, prechat, endedEl, nameIn, preEmailIn, list, typingEl, input;

  function load() {
    try {
      const v = JSON.parse(localStorage.getItem(storeKey) || "null");
      if (v && typeof v.token === "string") { token = v.token; visitorId = v.visitorId || null; seen = v.seen || null; }
    } catch (_) { /* storage unavailable */ }
  }
  function save() {
    try {
      if (token) localStorage.setItem(storeKey, JSON.stringify({ token, visitorId, seen }));
      else localStorage.removeItem(storeKey);
    } catch (_) { /* storage unavailable */ }
  }

  // ---- HTTP ----
  // Rejects with {network} or {status, code, message, retryAfter} (the server's JSON error shape).
  async function api(method, path, data, opts = {}) {
    const auth = "token" in opts ? opts.token : token;
    const headers = {};
    if (auth) headers.Authorization = "Bearer " + auth;
    if (data !== undefined) headers["Content-Type"] = "application/json";
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), opts.timeout || 15000);
    let res, json = null;
    try {
      res = await fetch(`${hub}/webchat/v1/${path}`, {
        method, headers, body: data === undefined ? undefined : JSON.stringify(data),
        signal: ctl.signal, credentials: "omit",
      });
      if (res.status !== 204) json = await res.json().catch(() => null);
    } catch (_) {
      throw { network: true };
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) {
      const err = (json && json.error) || {};
      throw { status: res.status, code: err.code, message: err.message, retryAfter: Number(res.headers.get("Retry-After")) || 0 };
    }
    return json;
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // 1 s, 2 s, 4 s … 30 s, each ±25 %.
  const backoff = (n) => Math.min(30000, 1000 * 2 ** Math.min(n, 5)) * (0.75 + Math.random() * 0.5);
  function newId() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return "c" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // ---- Session ----
  // Creates the session once (with whatever the pre-chat form holds) and connects.
  function ensureSession() {
    if (token) return Promise.resolve();
    if (creating) return creating;
    const name = nameIn.value.trim(), email = preEmailIn.value.trim();
    if (email && !preEmailIn.checkValidity()) return Promise.reject({ code: "invalid_email" });
    const req = { site };
    if (name) req.name = name;
    if (email) req.email = email;
    if (conf.identifier && conf.signature) Object.assign(req, { identifier: conf.identifier, signature: conf.signature });
    creating = api("POST", "sessions", req, { token: null }).then((s) => {
      if (!s || typeof s.token !== "string") throw {};
      token = s.token;
      visitorId = s.visitorId || null;
      seen = null; everConnected = false; ended = false;
      save();
      if (email && !emailIn.value) emailIn.value = email;
      setAgents(s.agentsOnline, s.closed, s.opensAt);
      connect();
    }).finally(() => { creating = null; });
    return creating;
  }

  // GET /session: false when the token is unknown (then forgotten).
  async function refreshSession() {
    try {
      const s = await api("GET", "session");
      if (s) {
        visitorId = s.visitorId || visitorId;
        if (s.email && !emailIn.value) emailIn.value = s.email;
        setAgents(s.agentsOnline, s.closed, s.opensAt);
        // The visitor signed in on the host site since the chat began.
        if (!s.verified && conf.identifier && conf.signature) return sendIdentity();
      }
    } catch (e) {
      if (e.status === 401) { expire(); return false; }
    }
    return true;
  }

  // POST /identify: the hub joins this chat to the signed-in customer. False when the session was given
  // up: unknown, or signed in as someone else (another person on this browser), so a new chat starts.
  async function sendIdentity() {
    try {
      await api("POST", "identify", { identifier: conf.identifier, signature: conf.signature });
    } catch (e) {
      if (e.status === 401 || e.status === 409) { expire(); return false; }
      showError(e);
    }
    return true;
  }

  // For pages that sign the visitor in without a reload: SwitchboardWidget.identify(identifier, signature).
  // The transcript is read again, since it may now hold the customer's earlier chats.
  async function identify(identifier, signature) {
    conf.identifier = identifier; conf.signature = signature;
    if (!token || !(await sendIdentity())) return;
    stopTransport();
    clearMessages(true);
    connect();
  }

  // The server no longer knows the token: start over, keeping unsent messages for a new session.
  function expire() {
    stopTransport();
    token = visitorId = seen = null;
    save();
    clearMessages(true);
    if (pending.size) ensureSession().then(flush, showError);
    render();
  }

  // "End chat": tell the server, forget everything, close the socket once the server knows.
  function endChat() {
    const t = token, s = ws;
    ws = null;
    if (s) detach(s);
    stopTransport();
    token = visitorId = seen = null;
    save();
    pending.clear();
    clearMessages(false);
    agentsOnline = null; everConnected = false; ended = true;
    emailForm.hidden = false; emailSaved.hidden = true;
    render();
    input.focus();
    const done = () => { if (s) try { s.close(1000); } catch (_) { /* already closed */ } };
    if (t) api("POST", "leave", undefined, { token: t }).then(done, done);
    else done();
  }

  // ---- Transport ----
  function connect() {
    if (!token) return;
    if (mode === "longpoll") poll();
    else openSocket();
  }

  function stopTransport() {
    clearTimeout(reconnectTimer); clearTimeout(flushTimer); clearInterval(pingTimer);
    pollGen++;
    if (ws) { const s = ws; ws = null; detach(s); try { s.close(1000); } catch (_) { /* already closed */ } }
    wsReady = false; attempt = 0;
    setConnected(false);
  }

  function detach(s) { s.onopen = s.onmessage = s.onclose = s.onerror = null; }
  function sendFrame(s, frame) { try { s.send(JSON.stringify(frame)); } catch (_) { /* closing */ } }

  function openSocket() {
    clearTimeout(reconnectTimer);
    if (!token || ws) return;
    let s, opened = false;
    try { s = new WebSocket(hub.replace(/^http/, "ws") + "/webchat/v1/ws"); } catch (_) { return socketClosed(null, 0, false); }
    ws = s; wsReady = false; wsGen++;
    s.onopen = () => {
      opened = wsEverOpened = true; wsOpenFailures = 0; awaitingPong = false;
      sendFrame(s, { type: "hello", token, after: lastId });
      clearInterval(pingTimer);
      pingTimer = setInterval(() => {
        if (awaitingPong) return socketClosed(s, 0, true); // nothing since the last ping: a dead socket
        awaitingPong = true;
        sendFrame(s, { type: "ping" });
      }, 20000);
    };
    s.onmessage = (ev) => {
      awaitingPong = false;
      let f;
      try { f = JSON.parse(ev.data); } catch (_) { return; }
      if (f && typeof f === "object") onFrame(f);
    };
    s.onclose = (ev) => socketClosed(s, ev.code, opened);
  }

  function socketClosed(s, code, opened) {
    if (s) {
      if (s !== ws) return;
      detach(s);
      try { s.close(); } catch (_) { /* already closed */ }
    }
    ws = null; wsReady = false;
    clearInterval(pingTimer);
    setConnected(false);
    if (!token) return;
    if (code === 4401) return expire();
    if (code === 4403) return showError({ code: "origin_not_allowed" });
    // WebSocket never opened on this page after 3 tries: probably blocked, so long-poll instead.
    if (!opened && !wsEverOpened && ++wsOpenFailures >= 3) { mode = "longpoll"; return poll(); }
    reconnectTimer = setTimeout(openSocket, backoff(attempt++));
  }

  function onFrame(f) {
    switch (f.type) {
      case "ready":
        wsReady = true; attempt = 0;
        setConnected(true);
        setAgents(f.agentsOnline, f.closed, f.opensAt);
        flush();
        break;
      case "message": addMessage(f.message); break;
      case "ack": addMessage(f.message, f.clientId); break;
      case "typing": if (f.from !== "visitor") showTyping(); break;
      case "agents": setAgents(f.online, f.closed, f.opensAt); break;
      case "error":
        showError(f.error || {});
        if (f.error && f.error.code === "rate_limited") retryLater(10000);
        break;
    }
  }

  // Long polling: GET /messages?after=…&wait=25 in a loop (the first call returns at once).
  async function poll() {
    const gen = ++pollGen;
    let fails = 0, first = true, okOnce = false, checked = Date.now();
    while (gen === pollGen && token) {
      try {
        const q = `messages?wait=${first ? 0 : 25}` + (lastId ? "&after=" + encodeURIComponent(lastId) : "");
        const res = await api("GET", q, undefined, { timeout: 40000 });
        if (gen !== pollGen) return;
        first = false; fails = 0; okOnce = true;
        setConnected(true);
        for (const m of (res && res.items) || []) addMessage(m);
        if (pending.size) flush();
        if (Date.now() - checked > 60000) { checked = Date.now(); refreshSession(); } // agents' availability
      } catch (e) {
        if (gen !== pollGen) return;
        if (e.status === 401) return expire();
        setConnected(false);
        if (e.status === 403) return showError(e);
        if (e.network && !okOnce) {
          // HTTP fails too: the hub is down rather than WebSocket blocked. Back to WebSocket retries.
          mode = "websocket"; wsOpenFailures = 0;
          reconnectTimer = setTimeout(openSocket, backoff(attempt++));
          return;
        }
        await sleep(backoff(fails++));
      }
    }
  }

  // Sends the unacknowledged messages, oldest first. Same clientId on every try: stored once.
  async function flush() {
    if (!token || !pending.size) return;
    if (mode === "websocket") {
      if (!ws || !wsReady) return;
      for (const [clientId, p] of pending) {
        if (p.gen === wsGen) continue; // already sent on this socket
        p.gen = wsGen;
        mark(p.el, "sending");
        sendFrame(ws, { type: "message", text: p.text, clientId });
      }
      return;
    }
    if (flushing) return;
    flushing = true;
    try {
      for (const [clientId, p] of [...pending]) {
        if (!pending.has(clientId)) continue;
        mark(p.el, "sending");
        try {
          addMessage(await api("POST", "messages", { text: p.text, clientId }), clientId);
        } catch (e) {
          if (e.status === 401) return expire();
          if (e.network || e.status >= 500) { mark(p.el, "notSent"); break; } // retried after the next good poll
          showError(e);
          if (e.status === 429) { mark(p.el, "notSent"); retryLater((e.retryAfter || 10) * 1000); break; }
          pending.delete(clientId); // refused for good: keep it on screen as not sent
          p.el.classList.replace("sbw-pending", "sbw-failed");
          mark(p.el, "failed");
        }
      }
    } finally {
      flushing = false;
    }
  }

  function retryLater(ms) {
    clearTimeout(flushTimer);
    flushTimer = setTimeout(() => {
      for (const p of pending.values()) p.gen = -1;
      flush();
    }, ms);
  }

  function sendTyping() {
    const now = Date.now();
    if (!token || now - lastTypingSent < 2000) return;
    lastTypingSent = now;
    if (mode === "websocket") { if (ws && wsReady) sendFrame(ws, { type: "typing" }); }
    else api("POST", "typing").catch(() => {});
  }

  // ---- Messages ----
  function bubble(from, text) {
    const agent = from !== "visitor";
    const el = h("div", { class: "sbw-msg " + (agent ? "sbw-from-agent" : "sbw-from-visitor"), "data-who": agent ? S.agent : S.you });
    el.textContent = String(text == null ? "" : text);
    return el;
  }
  function mark(el, state) { el.setAttribute("data-status", S[state]); }

  // Shows a stored message once (deduped by id); an ack or echo replaces the pending bubble of its clientId.
  function addMessage(m, clientId) {
    if (!m || typeof m.id !== "string") return;
    const key = clientId || (m.from === "visitor" && m.clientId) || null;
    const p = key ? pending.get(key) : null;
    if (p) pending.delete(key);
    if (shown.has(m.id)) { if (p) p.el.remove(); return; }
    const near = body.scrollHeight - body.scrollTop - body.clientHeight < 80;
    const el = p ? p.el : bubble(m.from, m.text);
    el.classList.remove("sbw-pending", "sbw-failed");
    el.removeAttribute("data-status");
    el.textContent = String(m.text == null ? "" : m.text);
    el.setAttribute("data-id", m.id);
    const when = new Date(m.createdAt);
    if (!isNaN(when)) el.title = when.toLocaleString(lang === "zh" ? "zh-CN" : "en");
    shown.add(m.id);
    place(el, m.id);
    if (!lastId || m.id > lastId) lastId = m.id;
    if (m.from !== "visitor") {
      typingEl.hidden = true;
      if (isOpen && !document.hidden) markSeen();
      else if (!seen || m.id > seen) { unread++; updateBadge(); }
    }
    render();
    if (near || p) scrollDown();
  }

  // Stored messages in id order; pending (and failed) ones after them.
  function place(el, id) {
    let before = null;
    for (const c of list.children) {
      if (c === el) continue;
      const cid = c.getAttribute("data-id");
      if (!cid || cid > id) { before = c; break; }
    }
    list.insertBefore(el, before);
  }

  function clearMessages(keepPending) {
    for (const c of [...list.children]) if (!keepPending || c.getAttribute("data-id")) c.remove();
    shown.clear();
    lastId = null; unread = 0;
    updateBadge();
  }

  function sendMessage() {
    const text = input.value.trim();
    if (!text) return;
    if (text.length > MAX_TEXT) return showError({ code: "too_long" });
    const clientId = newId();
    const el = bubble("visitor", text);
    el.classList.add("sbw-pending");
    mark(el, token && !connected ? "notSent" : "sending");
    list.append(el);
    pending.set(clientId, { text, el, gen: -1 });
    input.value = "";
    grow();
    render();
    scrollDown();
    if (token) flush();
    else ensureSession().then(flush, (e) => { showError(e); mark(el, "notSent"); });
  }

  // ---- View ----
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v != null && v !== false) el.setAttribute(k, v === true ? "" : v);
    el.append(...kids); // strings become text nodes
    return el;
  }

  function build() {
    (document.head || document.documentElement).append(h("style", { id: "sbw-style" }, CSS));
    badge = h("span", { id: "sbw-badge", "aria-hidden": "true", hidden: true });
    launcher = h("button", { id: "sbw-launcher", type: "button", "aria-label": S.title, "aria-expanded": "false", "aria-controls": "sbw-panel" },
      h("span", { class: "sbw-icon", "aria-hidden": "true" }), badge);
    endBtn = h("button", { id: "sbw-end", type: "button", hidden: true }, S.end);
    const closeBtn = h("button", { id: "sbw-close", type: "button", "aria-label": S.close }, h("span", { "aria-hidden": "true" }, "×"));
    statusEl = h("p", { id: "sbw-status", class: "sbw-note", role: "status", hidden: true });
    errorEl = h("p", { id: "sbw-error", class: "sbw-note", role: "alert", hidden: true });
    emailIn = h("input", { id: "sbw-email", type: "email", autocomplete: "email", required: true, placeholder: S.yourEmail });
    emailForm = h("form", { id: "sbw-email-form", novalidate: true },
      h("label", { for: "sbw-email", class: "sbw-sr" }, S.yourEmail),
      h("div", { class: "sbw-row" }, emailIn, h("button", { id: "sbw-email-save", class: "sbw-btn", type: "submit" }, S.save)));
    emailSaved = h("p", { id: "sbw-email-saved", role: "status", hidden: true });
    offlineText = h("p", {}, S.offline);
    offlineEl = h("div", { id: "sbw-offline", hidden: true }, offlineText, emailForm, emailSaved);
    nameIn = h("input", { id: "sbw-name", type: "text", autocomplete: "name", maxlength: "200", value: conf.name || null });
    preEmailIn = h("input", { id: "sbw-prechat-email", type: "email", autocomplete: "email", maxlength: "254", value: conf.email || null });
    endedEl = h("p", { id: "sbw-ended", hidden: true }, S.ended);
    prechat = h("form", { id: "sbw-prechat", novalidate: true },
      endedEl, h("p", {}, S.intro),
      h("label", { for: "sbw-name", class: "sbw-label" }, S.name), nameIn,
      h("label", { for: "sbw-prechat-email", class: "sbw-label" }, S.email), preEmailIn,
      h("button", { id: "sbw-start", class: "sbw-btn", type: "submit" }, S.start));
    list = h("div", { id: "sbw-messages", role: "log", "aria-live": "polite", "aria-label": S.log });
    body = h("div", { class: "sbw-body" }, prechat, list);
    typingEl = h("p", { id: "sbw-typing", role: "status", hidden: true }, S.typing);
    input = h("textarea", { id: "sbw-input", rows: "1", maxlength: String(MAX_TEXT), placeholder: S.placeholder });
    const form = h("form", { id: "sbw-form" },
      h("label", { for: "sbw-input", class: "sbw-sr" }, S.input), input,
      h("button", { id: "sbw-send", class: "sbw-btn", type: "submit" }, S.send));
    panel = h("div", { id: "sbw-panel", role: "dialog", "aria-label": S.title, hidden: true },
      h("div", { class: "sbw-head" }, h("h2", { class: "sbw-title" }, S.title), endBtn, closeBtn),
      statusEl, errorEl, offlineEl, body, typingEl, form);
    root = h("div", { id: "sbw-root", lang: lang === "zh" ? "zh-CN" : "en" }, launcher, panel);
    document.body.append(root);

    launcher.addEventListener("click", () => (isOpen ? close() : open()));
    closeBtn.addEventListener("click", () => close());
    endBtn.addEventListener("click", endChat);
    panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !e.isComposing) { e.stopPropagation(); close(); launcher.focus(); }
    });
    form.addEventListener("submit", (e) => { e.preventDefault(); sendMessage(); });
    input.addEventListener("keydown", (e) => {
      // Enter sends, Shift+Enter is a new line; never while an IME is composing (Chinese input).
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); sendMessage(); }
    });
    input.addEventListener("input", () => { grow(); if (input.value.trim()) sendTyping(); });
    prechat.addEventListener("submit", (e) => {
      e.preventDefault();
      ensureSession().then(() => input.focus(), showError);
    });
    emailForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const email = emailIn.value.trim();
      if (!email || !emailIn.checkValidity()) return showError({ code: "invalid_email" });
      ensureSession().then(() => api("POST", "contact", { email })).then(() => {
        emailForm.hidden = true;
        emailSaved.textContent = fmt(S.saved, { email });
        emailSaved.hidden = false;
      }, showError);
    });
  }

  function render() {
    prechat.hidden = !!token || shown.size > 0; // stays until a session exists, to fix the form or retry
    endedEl.hidden = !ended;
    endBtn.hidden = !token;
    offlineEl.hidden = !(token && (agentsOnline === false || closed));
    const notice = closed ? fmt(S.closed, { until: opensAt ? fmt(S.until, { time: when(opensAt) }) : "" }) : S.offline;
    if (offlineText.textContent !== notice) offlineText.textContent = notice;
    const text = everConnected ? S.reconnecting : S.connecting;
    statusEl.hidden = !token || connected;
    if (statusEl.textContent !== text) statusEl.textContent = text;
  }

  function setConnected(v) {
    if (v) everConnected = true;
    else if (connected) for (const p of pending.values()) mark(p.el, "notSent");
    connected = v;
    render();
  }

  // Agents online or not; outside opening hours, closed with when the center opens again.
  function setAgents(v, isClosed, opens) {
    if (typeof v !== "boolean") return;
    agentsOnline = v;
    closed = isClosed === true;
    opensAt = closed && typeof opens === "string" ? opens : null;
    render();
  }

  // An instant in the visitor's own time zone and language: "Mon 09:00".
  function when(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return "";
    return d.toLocaleString(lang === "zh" ? "zh-CN" : undefined, { weekday: "short", hour: "2-digit", minute: "2-digit" });
  }

  function showTyping() {
    typingEl.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typingEl.hidden = true; }, 4000);
  }

  function showError(e) {
    e = e || {};
    const code = e.code || "";
    errorEl.textContent = code === "rate_limited" || e.status === 429 ? S.rateLimited
      : code === "too_long" || e.status === 413 ? S.tooLong
      : code === "origin_not_allowed" ? S.notAllowed
      : code === "invalid_email" ? S.badEmail
      : e.network ? S.network
      : (lang === "en" && e.message) || S.error;
    errorEl.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(() => { errorEl.hidden = true; }, 6000);
  }

  function updateBadge() {
    badge.hidden = unread === 0;
    badge.textContent = unread > 99 ? "99+" : String(unread);
    launcher.setAttribute("aria-label", unread ? `${S.title} (${fmt(S.unread, { n: unread })})` : S.title);
  }

  function markSeen() {
    unread = 0;
    updateBadge();
    if (lastId && lastId !== seen) { seen = lastId; save(); }
  }

  function scrollDown() { body.scrollTop = body.scrollHeight; }
  function grow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 120) + "px";
  }

  function open() {
    if (!panel || isOpen) return;
    isOpen = true;
    panel.hidden = false;
    root.classList.add("sbw-is-open");
    launcher.setAttribute("aria-expanded", "true");
    if (!document.hidden) markSeen();
    render();
    scrollDown();
    input.focus();
  }

  function close() {
    if (!panel || !isOpen) return;
    const hadFocus = panel.contains(document.activeElement);
    isOpen = false;
    panel.hidden = true;
    root.classList.remove("sbw-is-open");
    launcher.setAttribute("aria-expanded", "false");
    if (hadFocus) launcher.focus();
  }

  // ---- Start ----
  function init() {
    build();
    load();
    render();
    if (token) refreshSession().then((ok) => { if (ok) connect(); });

    const wake = () => {
      if (token && mode === "websocket" && !ws) { attempt = 0; openSocket(); }
    };
    addEventListener("online", wake);
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) return;
      if (isOpen) markSeen();
      wake();
    });
    // Another tab started or ended the chat of this site.
    addEventListener("storage", (e) => {
      if (e.key !== storeKey && e.key !== null) return;
      let v = null;
      try { v = JSON.parse(localStorage.getItem(storeKey) || "null"); } catch (_) { /* unreadable */ }
      const next = (v && v.token) || null;
      if (next === token) return;
      stopTransport();
      if (!next) pending.clear();
      clearMessages(!!next);
      token = next;
      visitorId = (v && v.visitorId) || null;
      seen = (v && v.seen) || null;
      everConnected = false;
      for (const p of pending.values()) p.gen = -1;
      render();
      connect();
    });
  }

  window.SwitchboardWidget = {
    state: () => ({ connected, transport: token ? mode : null, visitorId, lastId }),
    open,
    close,
    identify,
  };

  if (document.body) init();
  else document.addEventListener("DOMContentLoaded", init);
})();
