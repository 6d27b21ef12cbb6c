/* Nordhem chat widget. Embed with one tag:
 *   <script src="https://HOST/widget.js" data-language="sv" defer></script>
 * Loads HOST/widget.css and talks only to HOST. No dependencies, no build step.
 * Every message is rendered as text (textContent), never as HTML. */
(function () {
  'use strict';
  if (window.NordhemChat || document.getElementById('nordhem-chat')) return;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var ORIGIN = new URL(script ? script.src : location.href, location.href).origin;
  var WS_ORIGIN = ORIGIN.replace(/^http/, 'ws');
  var KEY = 'nordhem_chat', OPEN_KEY = 'nordhem_chat_open';

  var T = {
    nb: {
      launcher: 'Chat med oss', title: 'Nordhem kundeservice', log: 'Samtale',
      welcome: 'Hei! Hva kan vi hjelpe deg med?', label: 'Melding', placeholder: 'Skriv en melding …',
      send: 'Send', close: 'Lukk chatten', bot: 'Assistenten', agent: 'Kundeservice',
      typing: 'skriver …', agentTyping: '{agent} skriver …', sending: 'Sender …', sent: 'Sendt ✓',
      unread: 'Ny melding', queue: 'Du er nummer {n} i køen, ca. {m}.', queueN: 'Du er nummer {n} i køen.',
      queueNone: 'Du står i kø. En kundebehandler svarer så snart som mulig.',
      openAt: 'Vi åpner {next_open}. Referanse {ref}.', ref: 'Referanse {ref}.',
      joined: '{agent} fra kundeservice er med i samtalen.', agentHere: 'En kundebehandler er med i samtalen.',
      closed: 'Samtalen er avsluttet.', newConv: 'Start en ny samtale', reconnecting: 'Kobler til på nytt …',
      errSend: 'Meldingen ble ikke sendt.', retry: 'Prøv igjen',
      errConnect: 'Vi får ikke kontakt med chatten akkurat nå.', min1: 'minutt', minN: 'minutter'
    },
    da: {
      launcher: 'Chat med os', title: 'Nordhem kundeservice', log: 'Samtale',
      welcome: 'Hej! Hvad kan vi hjælpe dig med?', label: 'Besked', placeholder: 'Skriv en besked …',
      send: 'Send', close: 'Luk chatten', bot: 'Assistenten', agent: 'Kundeservice',
      typing: 'skriver …', agentTyping: '{agent} skriver …', sending: 'Sender …', sent: 'Sendt ✓',
      unread: 'Ny besked', queue: 'Du er nummer {n} i køen, ca. {m}.', queueN: 'Du er nummer {n} i køen.',
      queueNone: 'Du står i kø. En medarbejder svarer så hurtigt som muligt.',
      openAt: 'Vi åbner {next_open}. Reference {ref}.', ref: 'Reference {ref}.',
      joined: '{agent} fra kundeservice er med i samtalen.', agentHere: 'En medarbejder er med i samtalen.',
      closed: 'Samtalen er afsluttet.', newConv: 'Start en ny samtale', reconnecting: 'Genopretter forbindelsen …',
      errSend: 'Beskeden blev ikke sendt.', retry: 'Prøv igen',
      errConnect: 'Vi kan ikke få forbindelse til chatten lige nu.', min1: 'minut', minN: 'minutter'
    },
    sv: {
      launcher: 'Chatta med oss', title: 'Nordhem kundservice', log: 'Konversation',
      welcome: 'Hej! Vad kan vi hjälpa dig med?', label: 'Meddelande', placeholder: 'Skriv ett meddelande …',
      send: 'Skicka', close: 'Stäng chatten', bot: 'Assistenten', agent: 'Kundservice',
      typing: 'skriver …', agentTyping: '{agent} skriver …', sending: 'Skickar …', sent: 'Skickat ✓',
      unread: 'Nytt meddelande', queue: 'Du är nummer {n} i kön, cirka {m}.', queueN: 'Du är nummer {n} i kön.',
      queueNone: 'Du står i kö. En medarbetare svarar så snart som möjligt.',
      openAt: 'Vi öppnar {next_open}. Referens {ref}.', ref: 'Referens {ref}.',
      joined: '{agent} från kundservice har anslutit.', agentHere: 'En medarbetare har anslutit.',
      closed: 'Konversationen är avslutad.', newConv: 'Starta en ny konversation', reconnecting: 'Återansluter …',
      errSend: 'Meddelandet skickades inte.', retry: 'Försök igen',
      errConnect: 'Vi får ingen kontakt med chatten just nu.', min1: 'minut', minN: 'minuter'
    }
  };

  function pickLanguage() {
    var tries = [script && script.getAttribute('data-language'), document.documentElement.lang, navigator.language];
    for (var i = 0; i < tries.length; i++) {
      var l = (tries[i] || '').slice(0, 2).toLowerCase();
      if (l === 'no' || l === 'nn') l = 'nb';
      if (T[l]) return l;
    }
    return 'nb';
  }
  var L = pickLanguage();
  function t(key, vars) {
    return T[L][key].replace(/\{(\w+)\}/g, function (_, k) { return vars && vars[k] != null ? vars[k] : ''; });
  }

  function store(area, key, value) {
    try {
      if (value == null) window[area].removeItem(key); else window[area].setItem(key, value);
    } catch (e) { /* storage blocked: the chat still works for this page */ }
  }
  function loadConversation() {
    try {
      var v = JSON.parse(localStorage.getItem(KEY));
      return v && v.conversation_id && v.customer_token ? v : null;
    } catch (e) { return null; }
  }

  // ---- state
  var conv = loadConversation(), status = 'bot', esc = null, agentName = null;
  var maxId = 0, seen = new Set(), titles = {}, gen = 0, creating = null;
  var ws = null, wsTimer = 0, watchdog = 0, pollTimer = 0, backoff = 0;
  var botPending = 0, agentTyping = null, agentTypingTimer = 0, lastTypingSent = 0, isOpen = false;

  // ---- DOM (built with createElement/textContent only)
  function h(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function icon(d) {
    var ns = 'http://www.w3.org/2000/svg', svg = document.createElementNS(ns, 'svg'), p = document.createElementNS(ns, 'path');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    p.setAttribute('d', d);
    svg.appendChild(p);
    return svg;
  }

  var root = h('div', { id: 'nordhem-chat', 'class': 'nordhem-chat', lang: L, hidden: '' });
  var launcher = h('button', { id: 'nordhem-chat-launcher', 'class': 'nordhem-launcher', type: 'button',
    'aria-expanded': 'false', 'aria-controls': 'nordhem-chat-panel' });
  var dot = h('span', { 'class': 'nordhem-dot', hidden: '' }), dotText = h('span', { 'class': 'nordhem-sr' });
  function unread(on) {  // the launcher's name says "new message" only while there is one
    dot.hidden = !on;
    dotText.textContent = on ? ' ' + t('unread') : '';
  }
  launcher.append(icon('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z'),
    h('span', { 'class': 'nordhem-launcher-label' }, t('launcher')), dotText, dot);

  var panel = h('div', { id: 'nordhem-chat-panel', 'class': 'nordhem-panel', role: 'dialog',
    'aria-label': t('title'), hidden: '' });
  var head = h('div', { 'class': 'nordhem-head' });
  var closeBtn = h('button', { id: 'nordhem-chat-close', 'class': 'nordhem-close', type: 'button',
    'aria-label': t('close'), title: t('close') });
  closeBtn.appendChild(icon('M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z'));
  head.append(h('h2', { 'class': 'nordhem-title' }, t('title')), closeBtn);
  var statusEl = h('div', { id: 'nordhem-chat-status', 'class': 'nordhem-status', role: 'status', 'aria-live': 'polite' });
  var connection = h('div', { id: 'nordhem-chat-connection', 'class': 'nordhem-connection', role: 'status', hidden: '' });
  var log = h('div', { id: 'nordhem-chat-log', 'class': 'nordhem-log', role: 'log', 'aria-live': 'polite',
    'aria-label': t('log'), tabindex: '0' });
  log.appendChild(h('p', { 'class': 'nordhem-welcome' }, t('welcome')));
  var typing = h('div', { id: 'nordhem-chat-typing', 'class': 'nordhem-typing', hidden: '' });
  var typingText = h('span');
  typing.append(h('span', { 'class': 'nordhem-dots', 'aria-hidden': 'true' }), typingText);
  typing.firstChild.append(h('span'), h('span'), h('span'));
  var newbar = h('div', { 'class': 'nordhem-newbar', hidden: '' });
  var newBtn = h('button', { 'class': 'nordhem-new', type: 'button' }, t('newConv'));
  newbar.appendChild(newBtn);
  var form = h('form', { 'class': 'nordhem-form', novalidate: '' });
  var input = h('textarea', { id: 'nordhem-chat-input', 'class': 'nordhem-input', rows: '1', maxlength: '2000',
    placeholder: t('placeholder'), autocomplete: 'off' });
  var sendBtn = h('button', { id: 'nordhem-chat-send', 'class': 'nordhem-send', type: 'submit' }, t('send'));
  form.append(h('label', { 'for': 'nordhem-chat-input', 'class': 'nordhem-sr' }, t('label')), input, sendBtn);
  panel.append(head, statusEl, connection, log, typing, newbar, form);
  root.append(launcher, panel);

  // ---- HTTP
  function api(method, path, body, c) {
    var headers = {}, ctl = new AbortController(), timer = setTimeout(function () { ctl.abort(); }, 30000);
    if (body) headers['Content-Type'] = 'application/json';
    if (c) headers.Authorization = 'Bearer ' + c.customer_token;
    return fetch(ORIGIN + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
      signal: ctl.signal, credentials: 'omit', cache: 'no-store' })
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (data) {
          if (r.ok) return data;
          var e = new Error((data && data.detail) || 'HTTP ' + r.status);
          e.status = r.status;
          throw e;
        });
      })
      .finally(function () { clearTimeout(timer); });
  }
  function invalidStatus(e) { return e && (e.status === 401 || e.status === 403 || e.status === 404); }
  function path(c, rest) { return '/api/conversations/' + encodeURIComponent(c.conversation_id) + rest; }

  function ensureConversation() {
    if (conv) return Promise.resolve(conv);
    if (!creating) {
      var g = gen;
      creating = api('POST', '/api/conversations', { language: L, page: location.href.slice(0, 500) })
        .then(function (r) {
          if (g !== gen) throw new Error('reset');
          conv = { conversation_id: r.conversation_id, customer_token: r.customer_token };
          store('localStorage', KEY, JSON.stringify(conv));
          notice('');
          setStatus(r.status || 'bot');
          connect();
          return conv;
        })
        .finally(function () { creating = null; });
    }
    return creating;
  }

  // History after the highest id seen; dedupes by id. live=false while restoring (no unread dot).
  function sync(live) {
    var c = conv;
    if (!c) return Promise.resolve();
    return api('GET', path(c, '/messages?after=' + maxId), null, c).then(function (r) {
      if (c === conv) apply(r, live);
      return true;
    }, function (e) {
      if (c === conv && invalidStatus(e)) forget();
      return false;
    });
  }
  // Socket down: fetch what was missed; say "reconnecting" only if HTTP fails too.
  function catchUp() {
    return sync(true).then(function (ok) {
      if (conv && !live()) notice(ok ? '' : t('reconnecting'));
    });
  }
  // While the socket is down (blocked by a proxy or the browser, or reconnecting) and a
  // person may write, poll the history so agent replies still arrive.
  function poll() {
    clearTimeout(pollTimer);
    if (conv && !live() && (status === 'queued' || status === 'with_agent')) {
      pollTimer = setTimeout(function () { catchUp().then(poll); }, 3000);
    }
  }
  function live() { return ws && ws.readyState === 1; }
  function apply(r, live) {
    (r.messages || []).forEach(function (m) { addMessage(m, live); });
    setStatus(r.status, r.escalation);
  }

  // ---- WebSocket
  function connect() {
    if (!conv || ws) return;
    clearTimeout(wsTimer);
    var c = conv, s;
    try {
      s = new WebSocket(WS_ORIGIN + '/ws/conversations/' + encodeURIComponent(c.conversation_id) +
        '?token=' + encodeURIComponent(c.customer_token));
    } catch (e) { return; }
    ws = s;
    s.onopen = function () { backoff = 0; clearTimeout(pollTimer); notice(''); alive(s); sync(true); };
    s.onmessage = function (ev) {
      alive(s);
      var d;
      try { d = JSON.parse(ev.data); } catch (e) { return; }
      onEvent(d || {});
    };
    s.onclose = function (ev) { dropped(s, c, ev.code); };
  }
  function alive(s) {  // the server pings every 25 s; silence means a dead connection
    clearTimeout(watchdog);
    watchdog = setTimeout(function () { s.onclose = null; s.close(); dropped(s, conv, 0); }, 60000);
  }
  function dropped(s, c, code) {
    if (ws !== s) return;
    ws = null;
    clearTimeout(watchdog);
    if (c !== conv) return;
    if (code === 4403 || code === 4404) return forget();
    catchUp();  // also finds out if the conversation is gone (401/403/404)
    poll();
    wsTimer = setTimeout(connect, Math.min(15, Math.pow(2, backoff++)) * 1000);
  }
  function disconnect() {
    clearTimeout(pollTimer);
    clearTimeout(wsTimer);
    clearTimeout(watchdog);
    var s = ws;
    ws = null;
    if (s) { s.onclose = null; s.close(); }
  }
  function reconnectNow() {
    if (!conv) return;
    catchUp();
    if (!ws) { backoff = 0; connect(); }
  }
  function onEvent(d) {
    if (d.type === 'message' && d.message) addMessage(d.message, true);
    else if (d.type === 'queue') setStatus(d.status || 'queued', d.escalation);
    else if (d.type === 'status') {
      if (d.agent_name) agentName = d.agent_name;
      setStatus(d.status);
    } else if (d.type === 'typing' && d.sender === 'agent') {
      agentTyping = d.agent_name || t('agent');
      clearTimeout(agentTypingTimer);
      agentTypingTimer = setTimeout(function () { agentTyping = null; showTyping(); }, 6000);
      showTyping();
    }
  }

  // ---- rendering
  function scrollDown() { log.scrollTop = log.scrollHeight; }
  function notice(text) {
    connection.textContent = text;
    connection.hidden = !text;
  }
  function showTyping() {
    typing.hidden = !(botPending > 0 || agentTyping);
    typingText.textContent = agentTyping ? t('agentTyping', { agent: agentTyping }) : t('typing');
    if (!typing.hidden) scrollDown();
  }
  function setStatus(st, e) {
    if (st) status = st;
    if (e) esc = e; else if (status === 'bot' || status === 'closed') esc = null;
    var s = '';
    if (status === 'queued') {
      var ref = esc && esc.reference ? ' ' + t('ref', { ref: esc.reference }) : '';
      if (esc && esc.open_now === false && esc.next_open) s = t('openAt', { next_open: esc.next_open, ref: esc.reference });
      else if (esc && esc.position && esc.eta_minutes) {
        s = t('queue', { n: esc.position, m: esc.eta_minutes + ' ' + t(esc.eta_minutes === 1 ? 'min1' : 'minN') }) + ref;
      } else if (esc && esc.position) s = t('queueN', { n: esc.position }) + ref;
      else s = t('queueNone') + ref;
    } else if (status === 'with_agent') {
      s = agentName ? t('joined', { agent: agentName }) : t('agentHere');
    } else if (status === 'closed') s = t('closed');
    if (statusEl.textContent !== s) statusEl.textContent = s;
    newbar.hidden = status !== 'closed';
    poll();
  }

  function addMessage(m, live) {
    if (m.id != null) {
      if (seen.has(m.id)) return;
      seen.add(m.id);
      if (m.id > maxId) maxId = m.id;
    }
    if (m.agent_name && m.sender !== 'customer') agentName = m.agent_name;
    if (m.sender === 'customer') return customerFromServer(m);
    var sender = m.sender === 'agent' || m.sender === 'system' ? m.sender : 'bot';
    var item = h('div', { 'class': 'nordhem-msg nordhem-' + sender, 'data-sender': sender });
    if (m.id != null) item.setAttribute('data-message-id', m.id);
    if (sender === 'agent') {
      item.appendChild(h('div', { 'class': 'nordhem-agent-name' }, m.agent_name || t('agent')));
      agentTyping = null;
      showTyping();
    } else if (sender === 'bot') item.appendChild(h('span', { 'class': 'nordhem-sr' }, t('bot') + ': '));
    item.appendChild(h('div', { 'class': 'nordhem-bubble' }, m.text || ''));
    if (m.buttons && m.buttons.length) {
      var group = h('div', { 'class': 'nordhem-buttons', role: 'group' });
      m.buttons.forEach(function (b) {
        var btn = h('button', { type: 'button' }, b.title);
        btn._payload = b.payload;
        titles[b.payload] = b.title;
        btn.addEventListener('click', function () {
          send({ payload: b.payload }, b.title);
          input.focus();
        });
        group.appendChild(btn);
      });
      item.appendChild(group);
    }
    log.appendChild(item);
    scrollDown();
    if (live && !isOpen) unread(true);
  }

  function customerItem(label, raw, id) {
    // a customer turn makes every earlier set of buttons stale; mark the one chosen
    log.querySelectorAll('.nordhem-buttons:not([data-used])').forEach(function (g) {
      g.setAttribute('data-used', '');
      Array.prototype.forEach.call(g.children, function (b) {
        b.disabled = true;
        if (b._payload === raw) b.classList.add('nordhem-chosen');
      });
    });
    var item = h('div', { 'class': 'nordhem-msg nordhem-customer', 'data-sender': 'customer' });
    item._raw = raw;
    item.appendChild(h('div', { 'class': 'nordhem-bubble' }, label));
    if (id != null) item.setAttribute('data-message-id', id);
    mark(item, id != null ? 'sent' : 'sending');
    log.appendChild(item);
    scrollDown();
    return item;
  }
  function customerFromServer(m) {
    var items = log.querySelectorAll('[data-sender="customer"]:not([data-message-id])');
    for (var i = 0; i < items.length; i++) {
      if (items[i]._raw === m.text) {  // our optimistic copy: now we know its id
        items[i].setAttribute('data-message-id', m.id);
        if (items[i].getAttribute('data-state') === 'error') mark(items[i], 'sent');
        return;
      }
    }
    customerItem((m.text.charAt(0) === '/' && titles[m.text]) || m.text, m.text, m.id);
  }
  function mark(item, state) {
    item.setAttribute('data-state', state);
    item.setAttribute('data-note', state === 'error' ? '' : t(state));
    var err = item.querySelector('.nordhem-error');
    if (err && state !== 'error') err.remove();
  }

  // ---- sending
  function send(body, label, item, again) {
    var raw = body.text != null ? body.text : body.payload;
    item = item || customerItem(label, raw);
    mark(item, 'sending');
    var expectBot = status === 'bot', g;
    if (expectBot) { botPending++; showTyping(); }
    return ensureConversation().then(function (c) {
      g = gen;
      return api('POST', path(c, '/messages'), body, c);
    }).then(function (r) {
      if (g !== gen) return;
      mark(item, 'sent');
      apply(r, true);
    }).catch(function (e) {
      if (invalidStatus(e) && !again && g === gen) {  // stored conversation is gone: start a new one
        forget();
        log.appendChild(item);
        return send(body, label, item, true);
      }
      failed(item, body, label, e);
    }).finally(function () {
      if (expectBot) { botPending--; showTyping(); }
    });
  }
  function failed(item, body, label, e) {
    mark(item, 'error');
    var closed = e && e.status === 409;
    var box = h('div', { 'class': 'nordhem-error' }, (closed ? t('closed') : t('errSend')) + ' ');
    var b = h('button', { type: 'button', 'class': 'nordhem-retry' }, closed ? t('newConv') : t('retry'));
    b.addEventListener('click', function () {
      if (closed) return startNew(body.text);
      box.remove();
      send(body, label, item);
    });
    box.appendChild(b);
    item.appendChild(box);
    if (closed) setStatus('closed');
    scrollDown();
  }
  function submit() {
    var text = input.value.trim();
    if (!text) return;
    input.value = '';
    grow();
    send({ text: text }, text);
  }
  function startNew(text) {
    forget();
    if (text) input.value = text;
    grow();
    input.focus();
    ensureConversation().catch(connectFailed);
  }
  function connectFailed(e) {
    if (e && e.message !== 'reset') notice(t('errConnect'));
  }

  // Forget the stored conversation (reset, or the server no longer knows it).
  function forget() {
    gen++;
    disconnect();
    conv = null;
    store('localStorage', KEY, null);
    maxId = 0;
    seen.clear();
    esc = null;
    agentName = null;
    agentTyping = null;
    log.querySelectorAll('.nordhem-msg').forEach(function (n) { n.remove(); });
    notice('');
    setStatus('bot');
    showTyping();
  }

  // ---- open / close
  function open(focus) {
    if (!isOpen) {
      isOpen = true;
      panel.hidden = false;
      root.classList.add('nordhem-open');
      launcher.setAttribute('aria-expanded', 'true');
      unread(false);
      store('sessionStorage', OPEN_KEY, '1');
      scrollDown();
      if (!conv) ensureConversation().catch(connectFailed);
    }
    if (focus !== false) input.focus();
  }
  function close(focus) {
    if (!isOpen) return;
    isOpen = false;
    panel.hidden = true;
    root.classList.remove('nordhem-open');
    launcher.setAttribute('aria-expanded', 'false');
    store('sessionStorage', OPEN_KEY, '0');
    if (focus !== false) launcher.focus();
  }
  function grow() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 132) + 'px';
  }

  launcher.addEventListener('click', function () { if (isOpen) close(); else open(); });
  closeBtn.addEventListener('click', function () { close(); });
  newBtn.addEventListener('click', function () { startNew(); });
  root.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && isOpen) { e.stopPropagation(); close(); }
  });
  form.addEventListener('submit', function (e) { e.preventDefault(); submit(); input.focus(); });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  input.addEventListener('input', function () {
    grow();
    var now = Date.now();
    if (ws && ws.readyState === 1 && (status === 'queued' || status === 'with_agent') && now - lastTypingSent > 3000) {
      lastTypingSent = now;
      ws.send('{"type":"typing"}');
    }
  });
  document.addEventListener('visibilitychange', function () { if (!document.hidden) reconnectNow(); });
  window.addEventListener('online', reconnectNow);
  window.addEventListener('pagehide', disconnect);
  window.addEventListener('pageshow', function (e) { if (e.persisted) reconnectNow(); });

  window.NordhemChat = {
    open: function () { open(); },
    close: function () { close(); },
    reset: function () { forget(); }
  };

  function start() {
    var href = ORIGIN + '/widget.css', link = document.querySelector('link[href="' + href + '"]');
    if (link) root.hidden = false;
    else {
      link = h('link', { rel: 'stylesheet', href: href });
      link.onload = link.onerror = function () { root.hidden = false; };
      document.head.appendChild(link);
    }
    document.body.appendChild(root);
    if (conv) { sync(false); connect(); }
    var wasOpen;
    try { wasOpen = sessionStorage.getItem(OPEN_KEY) === '1'; } catch (e) { wasOpen = false; }
    if (wasOpen) open(false);
  }
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
