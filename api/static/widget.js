/* Nordhem chat widget. Embed with one tag:
 *   <script src="https://HOST/widget.js" data-language="sv" defer></script>
 * Loads HOST/widget.css and talks only to HOST. No dependencies, no build step.
 * Every message is rendered as text (textContent), never as HTML. */
(() => {
'use strict';
if (window.NordhemChat || document.getElementById('nordhem-chat')) return;

const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
const ORIGIN = new URL(script ? script.src : location.href, location.href).origin;
const WS_ORIGIN = ORIGIN.replace(/^http/, 'ws');
const KEY = 'nordhem_chat', OPEN_KEY = 'nordhem_chat_open';

// nb, da and sv texts by key, from content/widget.yml: the service puts them here when it
// serves this file (GET /widget.js)
const T = /*WIDGET_TEXTS*/{};

// data-language, else <html lang>, else the browser's; no/nn mean nb; only nb, da, sv
const pickLanguage = () => {
  for (const v of [script && script.getAttribute('data-language'), document.documentElement.lang, navigator.language]) {
    let l = (v || '').slice(0, 2).toLowerCase();
    if (l === 'no' || l === 'nn') l = 'nb';
    if (T[l]) return l;
  }
  return 'nb';
};
const L = pickLanguage();
const t = (key, vars) => T[L][key].replace(/\{(\w+)\}/g, (_, k) => (vars && vars[k] != null ? vars[k] : ''));

const store = (area, key, value) => {
  try {
    if (value == null) window[area].removeItem(key); else window[area].setItem(key, value);
  } catch (e) { /* storage blocked: the chat still works on this page */ }
};
const stored = () => {
  try {
    const v = JSON.parse(localStorage.getItem(KEY));
    return v && v.conversation_id && v.customer_token ? v : null;
  } catch (e) { return null; }
};

// ---- state
let conv = stored(), status = 'bot', esc = null, agentName = null;
let maxId = 0, gen = 0, creating = null, isOpen = false;
let ws = null, wsReady = false, wsTimer = 0, watchdog = 0, pollTimer = 0, backoff = 0;
let botPending = 0, agentTyping = null, agentTypingTimer = 0, lastTypingSent = 0;
const seen = new Set(), titles = {};

// ---- DOM, built with createElement/textContent only
const h = (tag, attrs, text) => {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text != null) e.textContent = text;
  return e;
};
const icon = (d) => {
  const ns = 'http://www.w3.org/2000/svg', svg = document.createElementNS(ns, 'svg'), p = document.createElementNS(ns, 'path');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  p.setAttribute('d', d);
  svg.appendChild(p);
  return svg;
};

const root = h('div', { id: 'nordhem-chat', class: 'nordhem-chat', lang: L, hidden: '' });
const launcher = h('button', { id: 'nordhem-chat-launcher', class: 'nordhem-launcher', type: 'button',
  'aria-expanded': 'false', 'aria-controls': 'nordhem-chat-panel' });
const dot = h('span', { class: 'nordhem-dot', hidden: '' }), dotText = h('span', { class: 'nordhem-sr' });
launcher.append(icon('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z'),
  h('span', { class: 'nordhem-launcher-label' }, t('launcher')), dotText, dot);

const panel = h('div', { id: 'nordhem-chat-panel', class: 'nordhem-panel', role: 'dialog', 'aria-label': t('title'), hidden: '' });
const head = h('div', { class: 'nordhem-head' });
const closeBtn = h('button', { id: 'nordhem-chat-close', class: 'nordhem-close', type: 'button',
  'aria-label': t('close'), title: t('close') });
closeBtn.appendChild(icon('M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z'));
head.append(h('h2', { class: 'nordhem-title' }, t('title')), closeBtn);
const statusEl = h('div', { id: 'nordhem-chat-status', class: 'nordhem-status', role: 'status', 'aria-live': 'polite' });
const connection = h('div', { id: 'nordhem-chat-connection', class: 'nordhem-connection', role: 'status', hidden: '' });
const log = h('div', { id: 'nordhem-chat-log', class: 'nordhem-log', role: 'log', 'aria-live': 'polite',
  'aria-label': t('log'), tabindex: '0' });
log.appendChild(h('p', { class: 'nordhem-welcome' }, t('welcome')));
const typing = h('div', { id: 'nordhem-chat-typing', class: 'nordhem-typing', hidden: '' });
const dots = h('span', { class: 'nordhem-dots', 'aria-hidden': 'true' }), typingText = h('span');
dots.append(h('span'), h('span'), h('span'));
typing.append(dots, typingText);
const newbar = h('div', { class: 'nordhem-newbar', hidden: '' });
const newBtn = h('button', { class: 'nordhem-new', type: 'button' }, t('newConv'));
newbar.appendChild(newBtn);
const form = h('form', { class: 'nordhem-form', novalidate: '' });
const input = h('textarea', { id: 'nordhem-chat-input', class: 'nordhem-input', rows: '1', maxlength: '2000',
  placeholder: t('placeholder'), autocomplete: 'off' });
form.append(h('label', { for: 'nordhem-chat-input', class: 'nordhem-sr' }, t('label')), input,
  h('button', { id: 'nordhem-chat-send', class: 'nordhem-send', type: 'submit' }, t('send')));
panel.append(head, statusEl, connection, log, typing, newbar, form);
root.append(launcher, panel);

// ---- HTTP
const api = (method, path, body, c) => {
  const headers = {}, ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), 30000);
  if (body) headers['Content-Type'] = 'application/json';
  if (c) headers.Authorization = 'Bearer ' + c.customer_token;
  return fetch(ORIGIN + path, { method, headers, body: body ? JSON.stringify(body) : undefined,
    signal: ctl.signal, credentials: 'omit', cache: 'no-store' })
    .then((r) => r.json().catch(() => null).then((data) => {
      if (r.ok) return data;
      const e = new Error((data && data.detail) || 'HTTP ' + r.status);
      e.status = r.status;
      e.code = (data && data.code) || null;
      // 429: too many requests; Retry-After says in how many seconds one more gets through
      // 503: the bot is busy; nothing was stored and the same message may be sent again
      // 409 with Retry-After (code in_flight): this message is being answered; ask again then
      if (r.status === 429 || r.status === 503 || (r.status === 409 && r.headers.get('Retry-After'))) {
        e.retryAfter = Math.max(1, parseInt(r.headers.get('Retry-After'), 10) || (r.status === 429 ? 30 : 2));
      }
      throw e;
    }))
    .finally(() => clearTimeout(timer));
};
const gone = (e) => e && [401, 403, 404].includes(e.status);  // the stored conversation is invalid
const url = (c, rest) => '/api/conversations/' + encodeURIComponent(c.conversation_id) + rest;

const ensureConversation = () => {
  if (conv) return Promise.resolve(conv);
  if (!creating) {
    const g = gen;
    creating = api('POST', '/api/conversations', { language: L, page: location.href.slice(0, 500) })
      .then((r) => {
        if (g !== gen) throw new Error('reset');
        conv = { conversation_id: r.conversation_id, customer_token: r.customer_token };
        store('localStorage', KEY, JSON.stringify(conv));
        notice('');
        setStatus(r.status || 'bot');
        connect();
        return conv;
      })
      .finally(() => { creating = null; });
  }
  return creating;
};

// History after the highest id seen (dedupe by id). Resolves true if the server answered.
const sync = (live) => {
  const c = conv;
  if (!c) return Promise.resolve(false);
  return api('GET', url(c, '/messages?after=' + maxId), null, c).then((r) => {
    if (c === conv) apply(r, live);
    return true;
  }, (e) => {
    if (c === conv && gone(e)) forget();
    return false;
  });
};
const apply = (r, live) => {
  (r.messages || []).forEach((m) => addMessage(m, live));
  setStatus(r.status, r.escalation);
  if (r.csat) rating(r.csat.state);
};
const socketUp = () => ws && wsReady && ws.readyState === 1;  // open and authenticated
// Socket down: fetch what was missed; show "reconnecting" only if HTTP fails too.
const catchUp = () => sync(true).then((ok) => {
  if (conv && !socketUp()) notice(ok ? '' : t('reconnecting'));
});
// While the socket is down (reconnecting, or blocked by a proxy or the browser) and a
// person may write, poll the history so agent replies still arrive.
const poll = () => {
  clearTimeout(pollTimer);
  if (conv && !socketUp() && (status === 'queued' || status === 'with_agent')) {
    pollTimer = setTimeout(() => catchUp().then(poll), 3000);
  }
};

// ---- WebSocket: only once a conversation exists; backoff 1, 2, 4 … 15 s.
// The token goes in the first frame, never in the URL; events flow after "ready".
const connect = () => {
  if (!conv || ws) return;
  clearTimeout(wsTimer);
  const c = conv;
  let s;
  try {
    s = new WebSocket(`${WS_ORIGIN}/ws/conversations/${encodeURIComponent(c.conversation_id)}`);
  } catch (e) { return; }
  ws = s;
  wsReady = false;
  s.onopen = () => { alive(s); s.send(JSON.stringify({ type: 'auth', token: c.customer_token })); };
  s.onmessage = (ev) => {
    alive(s);
    let d;
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    if (d && d.type === 'ready') {  // subscribed: fetch what came before, stop polling
      if (ws === s) { wsReady = true; backoff = 0; clearTimeout(pollTimer); notice(''); sync(true); }
    } else if (d) onEvent(d);
  };
  s.onclose = (ev) => dropped(s, c, ev.code);
};
const alive = (s) => {  // the server pings every 25 s; a minute of silence means a dead connection
  clearTimeout(watchdog);
  watchdog = setTimeout(() => { s.onclose = null; s.close(); dropped(s, conv, 0); }, 60000);
};
const dropped = (s, c, code) => {
  if (ws !== s) return;
  ws = null;
  wsReady = false;
  clearTimeout(watchdog);
  if (c !== conv) return;
  if (code === 4403 || code === 4404) { forget(); return; }
  catchUp();  // also notices when the conversation is gone (401/403/404)
  poll();
  wsTimer = setTimeout(connect, Math.min(15, 2 ** backoff++) * 1000);
};
const disconnect = () => {
  clearTimeout(pollTimer);
  clearTimeout(wsTimer);
  clearTimeout(watchdog);
  const s = ws;
  ws = null;
  wsReady = false;
  if (s) { s.onclose = null; s.close(); }
};
const reconnectNow = () => {
  if (!conv) return;
  catchUp();
  if (!ws) { backoff = 0; connect(); }
};
const onEvent = (d) => {
  if (d.type === 'message' && d.message) addMessage(d.message, true);
  else if (d.type === 'queue') setStatus(d.status || 'queued', d.escalation);
  else if (d.type === 'status') {
    if (d.agent_name) agentName = d.agent_name;
    setStatus(d.status);
  } else if (d.type === 'csat') rating(d.state);
  else if (d.type === 'typing' && d.sender === 'agent') {
    agentTyping = d.agent_name || t('agent');
    clearTimeout(agentTypingTimer);
    agentTypingTimer = setTimeout(() => { agentTyping = null; showTyping(); }, 6000);
    showTyping();
  }
};

// ---- rendering
const scrollDown = () => { log.scrollTop = log.scrollHeight; };
const notice = (text) => { connection.textContent = text; connection.hidden = !text; };
const unread = (on) => {  // the launcher's name says "new message" only while there is one
  dot.hidden = !on;
  dotText.textContent = on ? ' ' + t('unread') : '';
};
const showTyping = () => {
  typing.hidden = !(botPending > 0 || agentTyping);
  typingText.textContent = agentTyping ? t('agentTyping', { agent: agentTyping }) : t('typing');
  if (!typing.hidden) scrollDown();
};
// The status line at the top: queue place and wait, next opening and reference, or the agent.
const setStatus = (st, e) => {
  if (st) status = st;
  if (e) esc = e; else if (status === 'bot' || status === 'closed') esc = null;
  let s = '';
  if (status === 'queued') {
    const ref = esc && esc.reference ? ' ' + t('ref', { ref: esc.reference }) : '';
    if (esc && esc.open_now === false && esc.next_open) s = t('openAt', { next_open: esc.next_open, ref: esc.reference });
    else if (esc && esc.position && esc.eta_minutes) {
      // the credible range the service gives ("6–12 min"), or its one value
      const high = esc.eta_max_minutes && esc.eta_max_minutes > esc.eta_minutes ? esc.eta_max_minutes : null;
      const m = high ? esc.eta_minutes + '–' + high + ' ' + t('minN')
        : esc.eta_minutes + ' ' + t(esc.eta_minutes === 1 ? 'min1' : 'minN');
      s = t('queue', { n: esc.position, m }) + ref;
    } else if (esc && esc.position) s = t('queueN', { n: esc.position }) + ref;
    else s = t('queueNone') + ref;
  } else if (status === 'with_agent') s = agentName ? t('joined', { agent: agentName }) : t('agentHere');
  else if (status === 'closed') s = t('closed');
  if (statusEl.textContent !== s) statusEl.textContent = s;
  newbar.hidden = status !== 'closed';
  poll();
};

const addMessage = (m, live) => {
  if (m.id != null) {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    if (m.id > maxId) maxId = m.id;
  }
  if (m.sender === 'customer') { customerFromServer(m); return; }
  if (m.agent_name) agentName = m.agent_name;
  const sender = m.sender === 'agent' || m.sender === 'system' ? m.sender : 'bot';
  const item = h('div', { class: 'nordhem-msg nordhem-' + sender, 'data-sender': sender });
  if (m.id != null) item.setAttribute('data-message-id', m.id);
  if (sender === 'agent') {
    item.appendChild(h('div', { class: 'nordhem-agent-name' }, m.agent_name || t('agent')));
    agentTyping = null;
    showTyping();
  } else if (sender === 'bot') item.appendChild(h('span', { class: 'nordhem-sr' }, t('bot') + ': '));
  item.appendChild(h('div', { class: 'nordhem-bubble' }, m.text || ''));
  if (m.buttons && m.buttons.length) {
    const group = h('div', { class: 'nordhem-buttons', role: 'group' });
    for (const b of m.buttons) {
      const btn = h('button', { type: 'button' }, b.title);
      btn._payload = b.payload;
      titles[b.payload] = b.title;
      btn.addEventListener('click', () => { send({ payload: b.payload }, b.title); input.focus(); });
      group.appendChild(btn);
    }
    item.appendChild(group);
  }
  log.appendChild(item);
  scrollDown();
  if (live && !isOpen) unread(true);
};

const customerItem = (label, raw, id) => {
  // a customer turn makes the earlier sets of buttons stale; mark the one chosen
  log.querySelectorAll('.nordhem-buttons:not([data-used])').forEach((g) => {
    g.setAttribute('data-used', '');
    for (const b of g.children) {
      b.disabled = true;
      if (b._payload === raw) b.classList.add('nordhem-chosen');
    }
  });
  const item = h('div', { class: 'nordhem-msg nordhem-customer', 'data-sender': 'customer' });
  item._raw = raw;
  item.appendChild(h('div', { class: 'nordhem-bubble' }, label));
  if (id != null) item.setAttribute('data-message-id', id);
  mark(item, id != null ? 'sent' : 'sending');
  log.appendChild(item);
  scrollDown();
  return item;
};
const customerFromServer = (m) => {
  for (const item of log.querySelectorAll('[data-sender="customer"]:not([data-message-id])')) {
    if (item._raw === m.text) {  // our optimistic copy: now its id is known
      item.setAttribute('data-message-id', m.id);
      if (item.getAttribute('data-state') === 'error') mark(item, 'sent');
      return;
    }
  }
  customerItem((m.text.charAt(0) === '/' && titles[m.text]) || m.text, m.text, m.id);
};
const mark = (item, state) => {  // the note is shown by CSS (::after), not part of the text
  item.setAttribute('data-state', state);
  item.setAttribute('data-note', state === 'error' ? '' : t(state));
  const err = item.querySelector('.nordhem-error');
  if (err && state !== 'error') err.remove();
};

// ---- the rating (CSAT): asked once by the service; 1-5, an optional comment, or skip
let csatBox = null, csatDone = false, csatSending = false;
const rating = (state) => {
  if (state !== 'asked') {  // answered or skipped (maybe in another tab): no question
    if (csatBox && !csatDone && !csatSending) { csatBox.remove(); csatBox = null; }
    return;
  }
  if (csatBox) return;
  csatBox = h('form', { id: 'nordhem-chat-csat', class: 'nordhem-csat', novalidate: '' });
  const set = h('fieldset');
  set.appendChild(h('legend', null, t('csatQuestion')));
  let picked = null;
  const scores = h('div', { class: 'nordhem-csat-scores', role: 'group' });
  for (let n = 1; n <= 5; n++) {
    const b = h('button', { type: 'button', 'aria-pressed': 'false', 'aria-label': t('csatScore', { n }),
      'data-score': String(n) }, String(n));
    b.addEventListener('click', () => {
      picked = n;
      scores.querySelectorAll('button').forEach((x) => x.setAttribute('aria-pressed', String(x === b)));
      note.textContent = '';
    });
    scores.appendChild(b);
  }
  const ends = h('div', { class: 'nordhem-csat-ends', 'aria-hidden': 'true' });
  ends.append(h('span', null, t('csatLow')), h('span', null, t('csatHigh')));
  const comment = h('textarea', { id: 'nordhem-chat-csat-comment', rows: '2', maxlength: '1000' });
  const note = h('div', { class: 'nordhem-csat-note', role: 'alert' });
  const actions = h('div', { class: 'nordhem-csat-actions' });
  const sendBtn = h('button', { type: 'submit', class: 'nordhem-csat-send' }, t('csatSend'));
  const skipBtn = h('button', { type: 'button', class: 'nordhem-csat-skip' }, t('csatSkip'));
  actions.append(sendBtn, skipBtn);
  set.append(scores, ends, h('label', { for: 'nordhem-chat-csat-comment' }, t('csatComment')), comment, note, actions);
  csatBox.appendChild(set);
  const answer = (body) => {
    const c = conv;
    if (!c) return;
    sendBtn.disabled = skipBtn.disabled = true;
    csatSending = true;
    api('POST', url(c, '/csat'), body, c).then(() => {
      csatDone = true;
      csatSending = false;
      csatBox.replaceChildren(h('p', { class: 'nordhem-csat-thanks' }, body.skipped ? '' : t('csatThanks')));
      if (body.skipped) { csatBox.remove(); csatBox = null; }
    }, (e) => {
      csatSending = false;
      if (e && e.status === 409) { csatBox.remove(); csatBox = null; return; }  // rated elsewhere
      sendBtn.disabled = skipBtn.disabled = false;
      note.textContent = t('csatError');
    });
  };
  csatBox.addEventListener('submit', (e) => {
    e.preventDefault();
    if (picked == null) { note.textContent = t('csatPick'); return; }
    const text = comment.value.trim();
    answer(text ? { score: picked, comment: text } : { score: picked });
  });
  skipBtn.addEventListener('click', () => answer({ skipped: true }));
  log.appendChild(csatBox);
  scrollDown();
};

// ---- sending: shown at once, marked sent, or an error with "Try again" next to it
// a busy bot (503) is asked again by itself, a few times, while the message shows "sending";
// a message still being answered (409 in_flight: an earlier try got through but its answer
// did not) is asked for again until the service's answer time has passed (about 30 s)
const BUSY_RETRIES = 5, IN_FLIGHT_RETRIES = 20;
// every message gets its own id, kept on every retry of it (busy, network error, "Try
// again"): the service stores and answers it once, and a retry gets the first answer
const newId = () => {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
};
const send = (body, label, item, again, busyTries) => {
  if (!body.client_message_id) body = Object.assign({}, body, { client_message_id: newId() });
  item = item || customerItem(label, body.text != null ? body.text : body.payload);
  mark(item, 'sending');
  const expectBot = status === 'bot';
  let g;
  if (expectBot) { botPending++; showTyping(); }
  return ensureConversation().then((c) => {
    g = gen;
    return api('POST', url(c, '/messages'), body, c);
  }).then((r) => {
    if (g !== gen) return;
    mark(item, 'sent');
    apply(r, true);
  }).catch((e) => {
    if (gone(e) && !again && g === gen) {  // the server no longer knows it: start a new one
      forget();
      log.appendChild(item);
      return send(body, label, item, true);
    }
    const tries = busyTries || 0;
    const busy = e && e.status === 503, inFlight = e && e.status === 409 && e.code === 'in_flight';
    if ((busy || inFlight) && e.retryAfter && tries < (busy ? BUSY_RETRIES : IN_FLIGHT_RETRIES) && g === gen) {
      if (busy) notice(t('busyBot'));
      return new Promise((done) => setTimeout(done, e.retryAfter * 1000))
        .then(() => { if (busy) notice(''); return send(body, label, item, again, tries + 1); });
    }
    failed(item, body, label, e);
  }).finally(() => {
    if (expectBot) { botPending--; showTyping(); }
  });
};
// "in 40 seconds", "in 2 minutes": how long a rate limit asks to wait
const waitText = (seconds) => seconds < 60 ? seconds + ' ' + t(seconds === 1 ? 'sec1' : 'secN')
  : Math.ceil(seconds / 60) + ' ' + t(Math.ceil(seconds / 60) === 1 ? 'min1' : 'minN');
// the message stays in the chat, unsent, with "Try again" next to it: nothing typed is lost
const failed = (item, body, label, e) => {
  mark(item, 'error');
  const closed = e && e.status === 409 && !e.code;  // not in_flight, nor a reused id
  const text = closed ? t('closed') : e && e.status === 429 ? t('busy', { wait: waitText(e.retryAfter) }) : t('errSend');
  const box = h('div', { class: 'nordhem-error' }, text + ' ');
  const b = h('button', { type: 'button', class: 'nordhem-retry' }, t(closed ? 'newConv' : 'retry'));
  b.addEventListener('click', () => {
    if (closed) { startNew(body.text); return; }
    box.remove();
    send(body, label, item);
  });
  box.appendChild(b);
  item.appendChild(box);
  if (closed) setStatus('closed');
  scrollDown();
};
const submit = () => {
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  grow();
  send({ text }, text);
};
const connectFailed = (e) => {
  if (e && e.message !== 'reset') notice(e.status === 429 ? t('busyStart', { wait: waitText(e.retryAfter) }) : t('errConnect'));
};
const startNew = (text) => {
  forget();
  if (text) input.value = text;
  grow();
  input.focus();
  ensureConversation().catch(connectFailed);
};

// Forget the stored conversation (reset, or the server no longer knows it).
const forget = () => {
  gen++;
  disconnect();
  conv = null;
  store('localStorage', KEY, null);
  maxId = 0;
  seen.clear();
  esc = agentName = agentTyping = null;
  log.querySelectorAll('.nordhem-msg').forEach((n) => n.remove());
  if (csatBox) { csatBox.remove(); csatBox = null; }
  csatDone = csatSending = false;
  notice('');
  setStatus('bot');
  showTyping();
};

// ---- open / close
const open = (focus) => {
  if (!isOpen) {
    isOpen = true;
    panel.hidden = false;
    root.classList.add('nordhem-open');
    launcher.setAttribute('aria-expanded', 'true');
    unread(false);
    store('sessionStorage', OPEN_KEY, '1');
    scrollDown();
    if (!conv) ensureConversation().catch(connectFailed);  // created lazily, on first open
  }
  if (focus !== false) input.focus();
};
const close = (focus) => {
  if (!isOpen) return;
  isOpen = false;
  panel.hidden = true;
  root.classList.remove('nordhem-open');
  launcher.setAttribute('aria-expanded', 'false');
  store('sessionStorage', OPEN_KEY, '0');
  if (focus !== false) launcher.focus();
};
const grow = () => {
  input.style.height = 'auto';
  input.style.height = Math.min(input.scrollHeight + 2, 132) + 'px';
};

launcher.addEventListener('click', () => (isOpen ? close() : open()));
closeBtn.addEventListener('click', () => close());
newBtn.addEventListener('click', () => startNew());
root.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && isOpen) { e.stopPropagation(); close(); }
});
form.addEventListener('submit', (e) => { e.preventDefault(); submit(); input.focus(); });
input.addEventListener('keydown', (e) => {  // Enter sends, Shift+Enter is a new line
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    submit();
  }
});
input.addEventListener('input', () => {
  grow();
  const now = Date.now();
  if (socketUp() && (status === 'queued' || status === 'with_agent') && now - lastTypingSent > 3000) {
    lastTypingSent = now;
    ws.send('{"type":"typing"}');
  }
});
document.addEventListener('visibilitychange', () => { if (!document.hidden) reconnectNow(); });
window.addEventListener('online', reconnectNow);
window.addEventListener('pagehide', disconnect);
window.addEventListener('pageshow', (e) => { if (e.persisted) reconnectNow(); });

window.NordhemChat = { open: () => open(), close: () => close(), reset: () => forget() };

const start = () => {
  const href = ORIGIN + '/widget.css';
  let link = [...document.querySelectorAll('link[rel="stylesheet"]')].find((l) => l.href === href);
  if (link) root.hidden = false;
  else {
    link = h('link', { rel: 'stylesheet', href });
    link.onload = link.onerror = () => { root.hidden = false; };
    document.head.appendChild(link);
  }
  document.body.appendChild(root);
  if (conv) sync(false).then(connect);  // restore after navigation or reload
  let wasOpen = false;
  try { wasOpen = sessionStorage.getItem(OPEN_KEY) === '1'; } catch (e) { /* blocked */ }
  if (wasOpen) open(false);
};
if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
