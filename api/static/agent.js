/* Nordhem agent console (served at /agent.js for /agent). */
'use strict';
const TOKEN_KEY = 'nordhem_agent_token';
// the console language last used in this browser: the login page speaks it
const LANGUAGE_KEY = 'nordhem_console_language';
// every text of the console, in the agent's console language, and what reasons, priorities,
// statuses, languages, principles and topics are called: GET /api/labels (content/console.yml;
// before login GET /api/labels/login); the queue's order is the server's
const LABELS = {
  language: 'en', ui: {}, console_languages: {}, reasons: {}, priorities: {}, statuses: {},
  languages: {}, principles: {}, erasure: {}, order: {}, csat: {}, details: {}, topics: {},
  order_statuses: {}, payment_methods: {},
};
// the order panel's details, in the order shown (core/vocabulary.py ORDER_DETAIL_FIELDS)
const ORDER_KEYS = ['verified_order', 'order_status', 'carrier', 'tracking_number', 'tracking_link',
  'expected_delivery', 'pickup_point', 'pickup_deadline', 'payment_method', 'not_checked'];
// how each console language writes times and dates
const LOCALES = { nb: 'nb-NO', da: 'da-DK', sv: 'sv-SE', en: 'en-GB' };

const S = {
  token: null, me: null, filter: 'open', items: [], openId: null, esc: null, msgs: new Map(),
  ws: null, wsAttempt: 0, wsTimer: null, queueSeq: 0, detailSeq: 0, busy: false, lastTyping: 0, typingTimer: null,
  conn: 'conn_connecting', live: false,
};

/* ---------- small helpers ---------- */
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text != null) n.textContent = String(text);
  return n;
}
// a text with its {placeholders} filled in
function fill(text, values) {
  return String(text).replace(/\{(\w+)\}/g, (m, k) => (values && k in values ? String(values[k]) : m));
}
// one of the console's own texts (content/console.yml `ui`)
function ui(key, values) {
  const text = LABELS.ui[key];
  return fill(typeof text === 'string' ? text : key, values);
}
const pad = (n) => String(n).padStart(2, '0');
function fmtWait(sec) {
  sec = Math.max(0, Math.floor(sec || 0));
  return pad(Math.floor(sec / 60)) + ':' + pad(sec % 60);
}
/* ---------- times, in the agent's time zone (not the browser's) ---------- */
function timeZone() { return (S.me && S.me.time_zone) || undefined; }
function dateFormat(options) {
  const locale = LOCALES[LABELS.language] || 'en-GB';
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone: timeZone() });
  } catch (e) { // a time zone this browser does not know: its own
    return new Intl.DateTimeFormat(locale, options);
  }
}
const dayOf = (t) => dateFormat({ year: 'numeric', month: '2-digit', day: '2-digit' }).format(t);
function fmtTime(d) {
  const t = d instanceof Date ? d : new Date(d);
  if (isNaN(t)) return '';
  const today = dayOf(t) === dayOf(new Date());
  return dateFormat(today ? { hour: '2-digit', minute: '2-digit' }
    : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(t);
}
const human = (k) => String(k).replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
const capital = (t) => String(t).replace(/^./, (c) => c.toUpperCase());
const reasonText = (r) => LABELS.reasons[r] || human(r || 'unknown');
const statusText = (s) => LABELS.statuses[s] || human(s || 'unknown');
const priorityKey = (p) => (LABELS.priorities[p] ? p : 'normal');
const priorityText = (p) => LABELS.priorities[p] || human(p);
const topicText = (t) => capital(LABELS.topics[t] || String(t).replace(/_/g, ' '));

function showError(msg) { $('error').textContent = msg || ''; }
function clearError() { showError(''); }
function setConn(key, live) {
  S.conn = key;
  S.live = !!live;
  const c = $('connection');
  c.textContent = ui(key);
  c.classList.toggle('live', !!live);
}

/* ---------- the console's language ---------- */
// the login page's language: the one last used here, else the browser's first nb/da/sv/en
function browserLanguage() {
  const saved = localStorage.getItem(LANGUAGE_KEY);
  if (saved && LOCALES[saved]) return saved;
  for (const tag of navigator.languages || [navigator.language || '']) {
    const code = String(tag).toLowerCase().split('-')[0];
    if (code === 'nb' || code === 'no' || code === 'nn') return 'nb';
    if (LOCALES[code]) return code;
  }
  return 'en';
}
function setLabels(labels) {
  Object.assign(LABELS, labels);
  localStorage.setItem(LANGUAGE_KEY, LABELS.language);
  applyTexts();
  // other scripts of the console (suggestions.js) show their texts in the same language
  document.dispatchEvent(new CustomEvent('nordhem:labels', { detail: LABELS }));
}
// the texts written in agent.html (data-t: its text, data-t-label: its aria-label)
function applyTexts() {
  document.documentElement.lang = LABELS.language;
  document.title = ui('page_title');
  document.querySelectorAll('[data-t]').forEach((n) => { n.textContent = ui(n.dataset.t); });
  document.querySelectorAll('[data-t-label]').forEach((n) => n.setAttribute('aria-label', ui(n.dataset.tLabel)));
  document.querySelectorAll('#status-filter option[data-status]').forEach((o) => {
    o.textContent = statusText(o.dataset.status);
  });
  const select = $('console-language');
  select.replaceChildren(...Object.entries(LABELS.console_languages).map(([code, name]) => {
    const option = el('option', null, name);
    option.value = code;
    option.lang = code;
    return option;
  }));
  select.value = LABELS.language;
  setConn(S.conn, S.live);
  if (S.me) showSession();
}
async function loadLoginLabels() {
  try {
    const res = await fetch('/api/labels/login?language=' + encodeURIComponent(browserLanguage()));
    if (res.ok) setLabels(await res.json());
  } catch (e) { /* the page's own English stays */ }
}
async function changeLanguage(language) {
  if (!S.me || language === LABELS.language) return;
  try {
    S.me = await api('PUT', '/api/agents/me/preferences', { console_language: language });
    setLabels(await api('GET', '/api/labels'));
  } catch (e) {
    $('console-language').value = LABELS.language;
    fail(e);
    return;
  }
  // the summaries are written in the agent's language by the server: fetched again
  renderQueue();
  loadQueue();
  if (S.openId != null) loadDetail(S.openId);
  else $('detail-empty').textContent = ui('select_escalation');
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
  try { res = await fetch(path, opts); } catch (e) { throw new ApiError(0, ui('error_network')); }
  let data = null;
  if (res.status !== 204) { try { data = await res.json(); } catch (e) { data = null; } }
  if (!res.ok) throw new ApiError(res.status, detailText(data) || ui('error_request', { status: res.status }));
  return data;
}
function fail(e) {
  if (e && e.status === 401) logout(ui('error_token_expired'));
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
function showSession() {
  $('who').textContent = ui('logged_in_as', { name: S.me.name });
  $('time-zone').textContent = S.me.time_zone ? ui('times_in', { zone: S.me.time_zone }) : '';
}
function showApp() {
  $('login-view').hidden = true;
  $('app').hidden = false;
  $('session').hidden = false;
  showSession();
  if (S.openId == null) $('detail-empty').textContent = ui('select_escalation');
  clearError();
}
async function start(token) {
  S.token = token;
  try {
    S.me = await api('GET', '/api/agents/me');
    setLabels(await api('GET', '/api/labels'));
  } catch (e) {
    S.token = null;
    S.me = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(e.status === 401 ? ui('error_invalid_token') : ui('error_login', { message: e.message }));
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
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
  $('detail-empty').textContent = ui('select_escalation');
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
  t.title = ui('priority_title', { priority: priorityText(key) });
  return t;
}
function langBadge(code) {
  const known = LABELS.languages[code];
  const [short, name] = known ? [known.badge, known.name]
    : [String(code || '?').toUpperCase(), String(code || '?')];
  const b = el('span', 'tag lang', short);
  b.title = ui('language_title', { language: name });
  return b;
}
function waitSpan(item) {
  const s = el('span', 'wait');
  s.title = ui('waiting_time');
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
      S.items.push(e);  // shown at once; its place in the queue and its summary come from the server
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
    $('detail-empty').textContent = ui('loading');
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
  const who = e.agent_name ? ui('claimed_by', { name: e.agent_name }) : ui('not_claimed');
  const rating = e.csat_score ? fill(LABELS.csat.rating || '{score}/5', { score: e.csat_score })
    : (e.status === 'closed' ? LABELS.csat.none || '' : '');
  const meta = [prioTag(e.priority), langBadge(e.language), el('span', null, reasonText(e.reason)),
    el('span', 'muted', '· ' + statusText(e.status) + ' · ' + who)];
  const handed = fmtTime(e.created_at);
  if (handed) meta.push(el('span', 'muted handed-over', '· ' + ui('handed_over', { time: handed })));
  $('d-meta').replaceChildren(...meta, waitSpan(e));
  if (rating) $('d-meta').append(el('span', e.csat_score ? 'csat' : 'muted', rating));
  // written for the agent, in their language, by the server; left out when there is none
  $('summary').textContent = e.summary || '';
  $('d-summary-section').hidden = !e.summary;
}
function detailValue(v) {
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
function orderValue(k, v) {
  if (k === 'order_status') return LABELS.order_statuses[String(v).replace(/ /g, '_')] || v;
  if (k === 'payment_method') return LABELS.payment_methods[v] || v;
  return v;
}
function renderOrder(details) {
  const shown = ORDER_KEYS.filter((k) => details[k] != null && details[k] !== '');
  $('d-order-panel').hidden = !shown.length;
  const dl = $('d-order');
  dl.replaceChildren();
  if (!shown.length) return;
  const L = LABELS.order;
  $('d-order-title').textContent = L.panel || human('order');
  $('d-order-note').textContent = (details.verified_order ? L.verified_note : L.unverified_note) || '';
  for (const k of shown) {
    const dd = el('dd');
    const v = detailValue(orderValue(k, details[k]));
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
  // what the customer gave besides the order's facts; a section with nothing is left out
  const entries = Object.entries(details).filter(([k, v]) => !ORDER_KEYS.includes(k) && v != null && v !== '');
  $('d-details-section').hidden = !entries.length;
  $('d-details').replaceChildren(...entries.flatMap(([k, v]) =>
    [el('dt', null, LABELS.details[k] || human(k)), el('dd', null, detailValue(v))]));
  const topics = e.topics || [];
  const answered = new Set(e.answered || []);
  $('d-topics-section').hidden = !topics.length;
  $('d-topics').replaceChildren(...topics.map((t) => {
    const li = el('li', null, topicText(t));
    if (answered.has(t)) {
      li.className = 'answered';
      li.title = ui('answered_by_bot');
      const mark = el('span', 'mark', '✓');
      mark.setAttribute('aria-hidden', 'true');
      li.append(mark, el('span', 'sr-only', ' (' + ui('answered_by_bot') + ')'));
    }
    return li;
  }));
  renderScorecard(e.scorecard);
}
function renderScorecard(sc) {
  const ul = $('d-scorecard');
  $('d-scorecard-section').hidden = !sc;
  $('d-score').textContent = sc && typeof sc.score === 'number' ? `(${Math.round(sc.score * 100)}%)` : '';
  if (!sc) { ul.replaceChildren(); return; }
  ul.replaceChildren(...Object.entries(sc).filter(([k]) => k !== 'score').map(([k, v]) => {
    const state = v === true ? 'yes' : v === false ? 'no' : 'na';
    const li = el('li', 'c-' + state);
    const mark = el('span', 'mark', v === true ? '✓' : v === false ? '✗' : '–');
    mark.setAttribute('aria-hidden', 'true');
    const said = ui(state === 'na' ? 'not_applicable' : state);
    li.append(mark, document.createTextNode(`${LABELS.principles[k] || human(k)}: ${said}`));
    return li;
  }));
}
function logItem(sender, label, time, text) {
  const li = el('li', 'msg s-' + (sender || 'system'));
  const meta = el('span', 'meta', label);
  if (time) {
    const at = el('time', null, time);
    meta.append(' · ', at);
  }
  li.append(meta, el('span', 'text', text == null ? '' : text));
  return li;
}
function renderTranscript() {
  const t = S.esc.transcript || [];
  $('transcript-count').textContent = `(${t.length})`;
  $('transcript-list').replaceChildren(...(t.length
    ? t.map((m) => logItem(m.sender, senderLabel(m),
        typeof m.timestamp === 'number' ? fmtTime(new Date(m.timestamp * 1000)) : fmtTime(m.timestamp), m.text))
    : [el('li', 'muted', ui('no_transcript'))]));
}

/* ---------- live chat ---------- */
function senderLabel(m) {
  if (m.sender === 'agent') {
    const name = m.agent_name || ui('sender_agent');
    return S.me && name === S.me.name ? ui('you', { name }) : name;
  }
  const key = 'sender_' + m.sender;
  return LABELS.ui[key] ? ui(key) : human(m.sender || '?');
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
  $('erase').textContent = LABELS.erasure.confirm || human('confirm_erasure');
  toggle($('erase'), mine && e.reason === 'erasure_request');
  $('reply').disabled = !mine;
  $('reply-hint').textContent = !e ? '' : mine ? ui('hint_enter')
    : e.status === 'queued' ? ui('hint_claim')
    : e.status === 'closed' ? ui('hint_closed')
    : ui('hint_handled_by', { name: e.agent_name || ui('another_agent') });
}
function applyEscalation(e) {
  if (!e || e.id == null) return;
  // a live event's summary is written for helpdesks (in English): the console keeps the one
  // it fetched in the agent's language
  const { summary, bot_summary, ...fresh } = e;
  normalize(fresh);
  upsertItem(fresh);
  if (!S.esc || S.esc.id !== fresh.id) return;
  const { messages, ...rest } = fresh;
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
  $('detail-empty').textContent = fill(LABELS.erasure.done || '{reference}', { reference: reference || '#' + id });
}
async function confirmErasure() {
  const id = S.openId;
  const reference = S.esc && S.esc.reference;
  if (!window.confirm(LABELS.erasure.question || human('confirm_erasure') + '?')) return;
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
      setConn('conn_live', true);
      resync();
    } else onEvent(d);
  };
  ws.onclose = (ev) => {
    if (S.ws !== ws) return; // closed on purpose
    S.ws = null;
    setConn('conn_reconnecting', false);
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
  setConn('conn_connecting', false);
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
  if (!t) { showError(ui('error_enter_token')); return; }
  $('login').disabled = true;
  await start(t);
  $('login').disabled = false;
});
$('logout').addEventListener('click', () => logout());
$('console-language').addEventListener('change', (e) => changeLanguage(e.target.value));
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

// the login page's texts first: a saved token may no longer work, and the page says so
(async () => {
  await loadLoginLabels();
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) start(saved); else showLogin();
})();
