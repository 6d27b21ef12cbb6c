/* Nordhem agent console (served at /agent.js for /agent). */
'use strict';
const TOKEN_KEY = 'nordhem_agent_token';
// what reasons, priorities, statuses, languages and principles are called, and the erasure
// button's words: GET /api/labels (content/console.yml); the queue's order is the server's
const LABELS = { reasons: {}, priorities: {}, statuses: {}, languages: {}, principles: {}, erasure: {}, order: {}, csat: {} };
// the order panel's details, in the order shown (core/vocabulary.py ORDER_DETAIL_FIELDS)
const ORDER_KEYS = ['verified_order', 'order_status', 'carrier', 'tracking_number', 'tracking_link',
  'expected_delivery', 'pickup_point', 'pickup_deadline', 'payment_method', 'not_checked'];

const S = {
  token: null, me: null, filter: 'open', items: [], openId: null, esc: null, msgs: new Map(),
  ws: null, wsAttempt: 0, wsTimer: null, queueSeq: 0, detailSeq: 0, busy: false, lastTyping: 0, typingTimer: null,
};

/* ---------- small helpers ---------- */
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text != null) n.textContent = String(text);
  return n;
}
const pad = (n) => String(n).padStart(2, '0');
function fmtWait(sec) {
  sec = Math.max(0, Math.floor(sec || 0));
  return pad(Math.floor(sec / 60)) + ':' + pad(sec % 60);
}
function fmtTime(d) {
  const t = d instanceof Date ? d : new Date(d);
  return isNaN(t) ? '' : t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
const human = (k) => String(k).replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
const reasonText = (r) => LABELS.reasons[r] || human(r || 'unknown');
const statusText = (s) => LABELS.statuses[s] || human(s || 'unknown');
const priorityKey = (p) => (LABELS.priorities[p] ? p : 'normal');
const priorityText = (p) => LABELS.priorities[p] || human(p);

function showError(msg) { $('error').textContent = msg || ''; }
function clearError() { showError(''); }
function setConn(text, live) {
  const c = $('connection');
  c.textContent = text;
  c.classList.toggle('live', !!live);
}

/* ---------- API ---------- */
class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}
function detailText(data) {
  const d = data && data.detail;
  if (typeof d === 'string') return d;
  if (Array.isArray(d)) return d.map((x) => (x && x.msg) || JSON.stringify(x)).join('; ');
  return d ? JSON.stringify(d) : '';
}
async function api(method, path, body) {
  const opts = { method, headers: { Authorization: 'Bearer ' + S.token } };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try { res = await fetch(path, opts); } catch (e) { throw new ApiError(0, 'Network error – could not reach the server.'); }
  let data = null;
  if (res.status !== 204) { try { data = await res.json(); } catch (e) { data = null; } }
  if (!res.ok) throw new ApiError(res.status, detailText(data) || `Request failed (${res.status})`);
  return data;
}
function fail(e) {
  if (e && e.status === 401) logout('Your token is no longer valid. Please log in again.');
  else showError((e && e.message) || String(e));
}

/* ---------- login / logout ---------- */
function showLogin(msg) {
  $('login-view').hidden = false;
  $('app').hidden = true;
  $('session').hidden = true;
  showError(msg);
  $('token').focus();
}
function showApp() {
  $('login-view').hidden = true;
  $('app').hidden = false;
  $('session').hidden = false;
  $('who').textContent = 'Logged in as ' + S.me.name;
  clearError();
}
async function start(token) {
  S.token = token;
  try {
    S.me = await api('GET', '/api/agents/me');
  } catch (e) {
    S.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(e.status === 401 ? 'Invalid agent token. Please try again.' : 'Could not log in: ' + e.message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    Object.assign(LABELS, await api('GET', '/api/labels'));
  } catch (e) { /* labels only name things: without them the raw names are shown */ }
  showApp();
  loadQueue();
  connectWs();
}
function logout(msg) {
  sessionStorage.removeItem(TOKEN_KEY);
  disconnectWs();
  Object.assign(S, { token: null, me: null, items: [], openId: null, esc: null, msgs: new Map(), busy: false });
  S.queueSeq += 1; // drop responses still in flight
  S.detailSeq += 1;
  hideTyping();
  $('queue').replaceChildren();
  $('detail-body').hidden = true;
  $('detail-empty').hidden = false;
  $('detail-empty').textContent = 'Select an escalation from the queue.';
  $('token').value = '';
  showLogin(msg);
}

/* ---------- queue ---------- */
function normalize(item) {
  if (typeof item.wait_seconds === 'number') item._base = Date.now() - item.wait_seconds * 1000;
  else item._base = Date.parse(item.created_at) || Date.now();
  return item;
}
function matchesFilter(item) {
  if (S.filter === 'open') return item.status === 'queued' || item.status === 'with_agent';
  return item.status === S.filter;
}
function prioTag(p) {
  const key = priorityKey(p);
  const t = el('span', 'tag ' + key, priorityText(key));
  t.title = 'Priority: ' + priorityText(key);
  return t;
}
function langBadge(code) {
  const known = LABELS.languages[code];
  const [short, name] = known ? [known.badge, known.name]
    : [String(code || '?').toUpperCase(), String(code || 'unknown')];
  const b = el('span', 'tag lang', short);
  b.title = 'Language: ' + name;
  return b;
}
function waitSpan(item) {
  const s = el('span', 'wait');
  s.title = 'Waiting time';
  if (item.status === 'closed') s.textContent = fmtWait(item.wait_seconds);
  else {
    s.dataset.waitBase = String(item._base);
    s.textContent = fmtWait((Date.now() - item._base) / 1000);
  }
  return s;
}
function queueItem(it) {
  const li = el('li', 'p-' + priorityKey(it.priority));
  li.dataset.escalationId = it.id;
  li.tabIndex = 0;
  li.setAttribute('role', 'option');
  li.setAttribute('aria-selected', String(it.id === S.openId));
  const top = el('div', 'row');
  top.append(prioTag(it.priority), langBadge(it.language), el('strong', null, it.reference), waitSpan(it));
  const mid = el('div', 'row');
  const who = statusText(it.status) + (it.agent_name ? ' · ' + it.agent_name : '');
  mid.append(el('span', null, reasonText(it.reason)), el('span', 'muted', '· ' + who));
  li.append(top, mid);
  if (it.summary) li.append(el('div', 'sum muted', it.summary));
  return li;
}
function renderQueue() {
  const ul = $('queue');
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('#queue li');
  const focusId = focused ? focused.dataset.escalationId : null;
  ul.replaceChildren(...S.items.map(queueItem));
  $('queue-empty').hidden = S.items.length > 0;
  $('queue-count').textContent = String(S.items.length);
  if (focusId) { const li = ul.querySelector(`li[data-escalation-id="${CSS.escape(focusId)}"]`); if (li) li.focus(); }
}
function markSelected() {
  document.querySelectorAll('#queue li').forEach((li) =>
    li.setAttribute('aria-selected', String(Number(li.dataset.escalationId) === S.openId)));
}
async function loadQueue() {
  const seq = ++S.queueSeq;
  try {
    const data = await api('GET', '/api/escalations?status=' + encodeURIComponent(S.filter));
    if (seq !== S.queueSeq) return;
    const list = Array.isArray(data) ? data : (data && data.items) || [];
    S.items = list.map(normalize);
    renderQueue();
  } catch (e) {
    if (seq === S.queueSeq) fail(e);
  }
}
function upsertItem(e) {
  const i = S.items.findIndex((x) => x.id === e.id);
  if (matchesFilter(e)) {
    if (i >= 0) S.items[i] = Object.assign({}, S.items[i], e);
    else {
      S.items.push(e);  // shown at once; its place in the queue comes from the server
      loadQueue();
    }
  } else if (i >= 0) {
    S.items.splice(i, 1);
  }
  renderQueue();
}

/* ---------- detail ---------- */
function openEscalation(id) {
  if (S.openId !== id) {
    Object.assign(S, { openId: id, esc: null, msgs: new Map(), lastTyping: 0 });
    $('messages').replaceChildren();
    $('reply').value = '';
    hideTyping();
    $('detail-body').hidden = true;
    $('detail-empty').hidden = false;
    $('detail-empty').textContent = 'Loading…';
  }
  markSelected();
  clearError();
  loadDetail(id);
  if (window.matchMedia('(max-width: 800px)').matches) $('detail').scrollIntoView({ block: 'start' });
}
async function loadDetail(id) {
  const seq = ++S.detailSeq;
  try {
    const e = await api('GET', '/api/escalations/' + encodeURIComponent(id));
    if (seq !== S.detailSeq || S.openId !== id) return;
    S.esc = normalize(e);
    renderDetail();
  } catch (err) {
    if (seq === S.detailSeq) fail(err);
  }
}
function renderDetail() {
  $('detail-empty').hidden = true;
  $('detail-body').hidden = false;
  renderHeader();
  renderFacts();
  renderTranscript();
  (S.esc.messages || []).forEach((m) => { if (m && m.id != null) S.msgs.set(String(m.id), m); });
  renderMessages();
  renderControls();
}
function renderHeader() {
  const e = S.esc;
  $('reference').textContent = e.reference || '#' + e.id;
  const who = e.agent_name ? 'Claimed by ' + e.agent_name : 'Not claimed';
  const rating = e.csat_score
    ? (LABELS.csat.rating || 'Customer rating: {score}/5').replace('{score}', e.csat_score)
    : (e.status === 'closed' ? LABELS.csat.none || 'Not rated yet' : '');
  $('d-meta').replaceChildren(prioTag(e.priority), langBadge(e.language), el('span', null, reasonText(e.reason)),
    el('span', 'muted', '· ' + statusText(e.status) + ' · ' + who), waitSpan(e));
  if (rating) $('d-meta').append(el('span', e.csat_score ? 'csat' : 'muted', rating));
  $('summary').textContent = e.summary || 'No summary.';
}
function detailValue(v) {
  return v == null ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}
function renderOrder(details) {
  const shown = ORDER_KEYS.filter((k) => details[k] != null && details[k] !== '');
  $('d-order-panel').hidden = !shown.length;
  const dl = $('d-order');
  dl.replaceChildren();
  if (!shown.length) return;
  const L = LABELS.order;
  $('d-order-title').textContent = L.panel || 'Order';
  $('d-order-note').textContent = details.verified_order
    ? (L.verified_note || 'Verified by the bot.') : (L.unverified_note || 'Not verified.');
  for (const k of shown) {
    const dd = el('dd');
    const v = detailValue(details[k]);
    if (k === 'tracking_link' && /^https:\/\//.test(v)) {
      const a = el('a', null, v);
      a.href = v;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      dd.append(a);
    } else {
      dd.textContent = v;
    }
    dl.append(el('dt', null, L[k] || human(k)), dd);
  }
}
function renderFacts() {
  const e = S.esc;
  const details = e.details || {};
  renderOrder(details);
  const dl = $('d-details');
  const entries = Object.entries(details).filter(([k]) => !ORDER_KEYS.includes(k));
  dl.replaceChildren();
  // a <dl> may hold only dt/dd pairs (axe: definition-list)
  if (!entries.length) dl.append(el('dt', 'muted', 'Details'), el('dd', 'muted', 'None'));
  for (const [k, v] of entries) dl.append(el('dt', null, human(k)), el('dd', null, detailValue(v)));
  const topics = e.topics || [];
  $('d-topics').replaceChildren(...(topics.length ? topics.map((t) => el('li', null, String(t).replace(/_/g, ' ')))
    : [el('li', 'muted', 'None')]));
  renderScorecard(e.scorecard);
}
function renderScorecard(sc) {
  const ul = $('d-scorecard');
  $('d-score').textContent = sc && typeof sc.score === 'number' ? `(${Math.round(sc.score * 100)}%)` : '';
  if (!sc) { ul.replaceChildren(el('li', 'muted', 'No scorecard.')); return; }
  ul.replaceChildren(...Object.entries(sc).filter(([k]) => k !== 'score').map(([k, v]) => {
    const state = v === true ? 'yes' : v === false ? 'no' : 'n/a';
    const li = el('li', 'c-' + state.replace('/', ''));
    const mark = el('span', 'mark', v === true ? '✓' : v === false ? '✗' : '–');
    mark.setAttribute('aria-hidden', 'true');
    li.append(mark, document.createTextNode(`${LABELS.principles[k] || human(k)}: ${state}`));
    return li;
  }));
}
function logItem(sender, label, time, text) {
  const li = el('li', 'msg s-' + (sender || 'system'));
  li.append(el('span', 'meta', time ? label + ' · ' + time : label), el('span', 'text', text == null ? '' : text));
  return li;
}
function renderTranscript() {
  const t = S.esc.transcript || [];
  $('transcript-count').textContent = `(${t.length})`;
  $('transcript-list').replaceChildren(...(t.length
    ? t.map((m) => logItem(m.sender, m.sender === 'bot' ? 'Bot' : 'Customer',
        typeof m.timestamp === 'number' ? fmtTime(new Date(m.timestamp * 1000)) : fmtTime(m.timestamp), m.text))
    : [el('li', 'muted', 'No messages before the hand-off.')]));
}

/* ---------- live chat ---------- */
function senderLabel(m) {
  if (m.sender === 'agent') {
    const name = m.agent_name || 'Agent';
    return S.me && name === S.me.name ? name + ' (you)' : name;
  }
  return { customer: 'Customer', bot: 'Bot', system: 'System' }[m.sender] || human(m.sender || 'unknown');
}
function msgNode(m) {
  const li = logItem(m.sender, senderLabel(m), fmtTime(m.created_at), m.text);
  li.dataset.messageId = m.id;
  li.dataset.sender = m.sender;
  return li;
}
function renderMessages() {
  const ol = $('messages');
  const list = [...S.msgs.values()].sort((a, b) => Number(a.id) - Number(b.id));
  ol.replaceChildren(...list.map(msgNode));
  ol.scrollTop = ol.scrollHeight;
}
function addMessage(m) {
  if (!m || m.id == null || S.msgs.has(String(m.id))) return;
  S.msgs.set(String(m.id), m);
  if (!S.esc) return; // rendered when the detail arrives
  const ol = $('messages');
  const last = ol.lastElementChild;
  if (last && Number(last.dataset.messageId) > Number(m.id)) { renderMessages(); return; }
  const nearBottom = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 80;
  ol.append(msgNode(m));
  if (nearBottom || m.sender === 'agent') ol.scrollTop = ol.scrollHeight;
  if (m.sender === 'customer') hideTyping();
}
function showTyping() {
  $('typing').hidden = false;
  clearTimeout(S.typingTimer);
  S.typingTimer = setTimeout(hideTyping, 4000);
}
function hideTyping() {
  clearTimeout(S.typingTimer);
  $('typing').hidden = true;
}

/* ---------- actions ---------- */
function canReply() {
  const e = S.esc;
  return !!(e && S.me && e.status === 'with_agent' && e.agent_name === S.me.name);
}
function toggle(btn, show) {
  btn.hidden = !show;
  btn.disabled = !show || S.busy;
}
function renderControls() {
  const e = S.esc;
  const mine = canReply();
  toggle($('claim'), !!e && e.status === 'queued');
  ['send', 'resolve', 'return-to-bot'].forEach((id) => toggle($(id), mine));
  // an erasure request: the agent who claimed it confirms it (POST .../erase)
  $('erase').textContent = LABELS.erasure.confirm || 'Confirm erasure';
  toggle($('erase'), mine && e.reason === 'erasure_request');
  $('reply').disabled = !mine;
  $('reply-hint').textContent = !e ? '' : mine ? 'Enter sends, Shift+Enter adds a new line.'
    : e.status === 'queued' ? 'Claim this escalation to reply.'
    : e.status === 'closed' ? 'This escalation is closed.'
    : 'Handled by ' + (e.agent_name || 'another agent') + '.';
}
function applyEscalation(e) {
  if (!e || e.id == null) return;
  normalize(e);
  upsertItem(e);
  if (!S.esc || S.esc.id !== e.id) return;
  const { messages, ...rest } = e;
  Object.assign(S.esc, rest);
  if (Array.isArray(messages)) messages.forEach(addMessage);
  renderHeader();
  renderFacts();
  renderControls();
}
async function act(fn) {
  if (S.busy) return false;
  S.busy = true;
  renderControls();
  try {
    await fn();
    clearError();
    return true;
  } catch (e) {
    fail(e);
    return false;
  } finally {
    S.busy = false;
    renderControls();
  }
}
async function claim() {
  const id = S.openId;
  const ok = await act(async () => {
    try {
      applyEscalation(await api('POST', `/api/escalations/${id}/claim`));
    } catch (e) {
      if (e.status === 409) loadDetail(id); // show who has it now
      throw e;
    }
  });
  if (ok && canReply()) $('reply').focus();
}
async function resolve(returnToBot) {
  const id = S.openId;
  await act(async () => applyEscalation(await api('POST', `/api/escalations/${id}/resolve`, { return_to_bot: returnToBot })));
}
// the escalation and its conversation are gone: off the queue, and out of the detail pane
function dropEscalation(id, reference) {
  const i = S.items.findIndex((x) => x.id === id);
  if (i >= 0) { S.items.splice(i, 1); renderQueue(); }
  if (S.openId !== id) return;
  Object.assign(S, { openId: null, esc: null, msgs: new Map() });
  S.detailSeq += 1; // a detail still in flight is of an erased conversation
  hideTyping();
  $('detail-body').hidden = true;
  $('detail-empty').hidden = false;
  $('detail-empty').textContent = (LABELS.erasure.done || 'The conversation was erased. Reference: {reference}')
    .replace('{reference}', reference || '#' + id);
}
async function confirmErasure() {
  const id = S.openId;
  const reference = S.esc && S.esc.reference;
  if (!window.confirm(LABELS.erasure.question || 'Erase this conversation everywhere? This cannot be undone.')) return;
  await act(async () => {
    await api('POST', `/api/escalations/${id}/erase`);
    dropEscalation(id, reference);
  });
}
async function sendReply() {
  const text = $('reply').value.trim();
  if (!text || !canReply() || S.busy) return;
  const id = S.openId;
  await act(async () => {
    const m = await api('POST', `/api/escalations/${id}/messages`, { text });
    if (S.openId === id) { addMessage(m); $('reply').value = ''; }
  });
  if (canReply()) $('reply').focus();
}
function notifyTyping() {
  if (!canReply()) return;
  const now = Date.now();
  if (now - S.lastTyping < 3000) return;
  S.lastTyping = now;
  api('POST', `/api/escalations/${S.openId}/typing`).catch((e) => { if (e.status === 401) fail(e); });
}

/* ---------- websocket ---------- */
function connectWs() {
  clearTimeout(S.wsTimer);
  if (!S.token) return;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // the token goes in the first frame, never in the URL; "ready" means subscribed
  const ws = new WebSocket(`${proto}//${location.host}/ws/agents`);
  S.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: S.token }));
  ws.onmessage = (ev) => {
    let d;
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    if (d && d.type === 'ready') {
      if (S.ws !== ws) return;
      S.wsAttempt = 0;
      setConn('live', true);
      resync();
    } else onEvent(d);
  };
  ws.onclose = (ev) => {
    if (S.ws !== ws) return; // closed on purpose
    S.ws = null;
    setConn('reconnecting…', false);
    if ([1008, 4001, 4401, 4403].includes(ev.code)) api('GET', '/api/agents/me').catch(fail);
    const delay = Math.min(1000 * 2 ** S.wsAttempt, 15000);
    S.wsAttempt += 1;
    S.wsTimer = setTimeout(connectWs, delay);
  };
}
function disconnectWs() {
  clearTimeout(S.wsTimer);
  const ws = S.ws;
  S.ws = null;
  S.wsAttempt = 0;
  if (ws) ws.close();
  setConn('connecting…', false);
}
function resync() {
  loadQueue();
  if (S.openId != null) loadDetail(S.openId);
}
function onEvent(d) {
  if (!d || typeof d.type !== 'string') return;
  if (d.type === 'escalation.erased') dropEscalation(Number(d.escalation_id), d.reference);
  else if (d.type.startsWith('escalation.')) applyEscalation(d.escalation);
  else if (d.type === 'message.created' && Number(d.escalation_id) === S.openId) addMessage(d.message);
  else if (d.type === 'csat.submitted' && Number(d.escalation_id) === S.openId && S.esc) {
    S.esc.csat_score = d.score;
    renderHeader();
  } else if (d.type === 'typing' && Number(d.escalation_id) === S.openId && d.sender === 'customer') showTyping();
}

/* ---------- wiring ---------- */
$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const t = $('token').value.trim();
  if (!t) { showError('Enter your agent token.'); return; }
  $('login').disabled = true;
  await start(t);
  $('login').disabled = false;
});
$('logout').addEventListener('click', () => logout());
$('status-filter').addEventListener('change', (e) => { S.filter = e.target.value; loadQueue(); });
$('queue').addEventListener('click', (e) => {
  const li = e.target.closest('li[data-escalation-id]');
  if (li) openEscalation(Number(li.dataset.escalationId));
});
$('queue').addEventListener('keydown', (e) => {
  const li = e.target.closest('li[data-escalation-id]');
  if (!li) return;
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    openEscalation(Number(li.dataset.escalationId));
  } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    const next = e.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling;
    if (next) next.focus();
  }
});
$('claim').addEventListener('click', claim);
$('resolve').addEventListener('click', () => resolve(false));
$('return-to-bot').addEventListener('click', () => resolve(true));
$('erase').addEventListener('click', confirmErasure);
$('composer').addEventListener('submit', (e) => { e.preventDefault(); sendReply(); });
$('reply').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendReply(); }
});
$('reply').addEventListener('input', notifyTyping);

setInterval(() => {
  const now = Date.now();
  document.querySelectorAll('[data-wait-base]').forEach((s) => {
    s.textContent = fmtWait((now - Number(s.dataset.waitBase)) / 1000);
  });
}, 1000);

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) start(saved); else showLogin();
