/* Suggested answers in the agent console (served at /suggestions.js for /agent).
 *
 * For the open escalation it lists GET /api/escalations/{id}/suggestions: FAQ answers and
 * canned responses in the customer's language, those on the topics the bot saw first. One
 * click puts an answer into the reply box (after what the agent typed) for the agent to
 * edit; typing in the reply box ranks them again by what is typed.
 *
 * It keeps to what agent.js shows instead of reaching into it: the open escalation is the
 * one whose reference is in #reference (its id from the selected queue item), the token is
 * where agent.js keeps it (sessionStorage), and the only thing it changes is #reply.
 */
'use strict';
(() => {
  const TOKEN_KEY = 'nordhem_agent_token';
  const LIMIT = 8;
  const MAX_QUERY = 200; // the API's limit on q, in characters
  const DEBOUNCE_MS = 300;
  // shown until the console's labels (GET /api/labels, content/console.yml `ui`) have them
  const FALLBACK = {
    suggestions_heading: 'Suggested answers',
    suggestions_empty: 'No suggestions for this conversation.',
    suggestions_error: 'Could not load the suggested answers.',
    suggestions_claim: 'Claim this escalation to use a suggested answer.',
    suggestions_faq: 'FAQ',
    suggestions_canned: 'Canned',
  };
  const STYLE = `
    #suggestions { margin-top: 10px; }
    #suggestions ol { list-style: none; margin: 0; padding: 0; display: grid; gap: 6px; max-height: 34vh; overflow: auto; }
    #suggestions li { border: 1px solid var(--line, #d9dde3); border-radius: 6px; padding: 6px 8px; display: grid; gap: 2px; }
    #suggestions .suggestion-head { display: flex; gap: 6px; align-items: center; }
    #suggestions .suggestion-head button { padding: 2px 8px; text-align: left; }
    #suggestions .suggestion-text { margin: 0; font-size: 12px; color: var(--muted, #5b6573); white-space: pre-line;
      display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }`;

  const $ = (id) => document.getElementById(id);
  const state = { id: null, reference: null, query: null, seq: 0, timer: null, items: [], failed: false, disabled: true };

  function ui(key) {
    // agent.js's labels are a global of its own script (a `const`), read when present
    const labels = typeof LABELS === 'object' && LABELS ? LABELS.ui : null;
    return (labels && typeof labels[key] === 'string' && labels[key]) || FALLBACK[key];
  }
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = String(text);
    return node;
  }
  function openId() {
    const selected = document.querySelector('#queue li[aria-selected="true"][data-escalation-id]');
    if (selected) return Number(selected.dataset.escalationId);
    // not in the queue as filtered now: the id agent.js keeps, if its global is there
    if (typeof S === 'object' && S && Number.isInteger(S.openId)) return S.openId;
    return state.id;
  }
  function query() {
    const text = $('reply').value.trim();
    // the end of a long reply is what is being typed; whole characters, not halves of one
    return Array.from(text).slice(-MAX_QUERY).join('');
  }

  /* ---------- loading ---------- */
  async function load() {
    const id = state.id;
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (id == null || !token) return;
    const seq = ++state.seq;
    const q = query();
    state.query = q;
    const params = new URLSearchParams({ limit: String(LIMIT) });
    if (q) params.set('q', q);
    try {
      const res = await fetch(`/api/escalations/${encodeURIComponent(id)}/suggestions?${params}`,
        { headers: { Authorization: 'Bearer ' + token } });
      if (seq !== state.seq) return;
      if (res.status === 401) return; // agent.js logs the agent out on its next request
      if (!res.ok) throw new Error(String(res.status));
      const items = await res.json();
      if (seq !== state.seq) return;
      Object.assign(state, { items: Array.isArray(items) ? items : [], failed: false });
    } catch (e) {
      if (seq !== state.seq) return;
      Object.assign(state, { items: [], failed: true });
    }
    render();
  }
  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => { if (query() !== state.query) load(); }, DEBOUNCE_MS);
  }
  function clear() {
    Object.assign(state, { id: null, reference: null, query: null, items: [], failed: false });
    state.seq += 1; // drop a response still in flight
    clearTimeout(state.timer);
    $('suggestions').replaceChildren();
  }
  // the detail pane shows another escalation (or none): its suggestions
  function follow() {
    if ($('detail-body').hidden) { if (state.id != null) clear(); return; }
    const reference = $('reference').textContent;
    const id = openId();
    if (id == null) return;
    if (id === state.id && reference === state.reference) {
      // the same escalation drawn again, perhaps in another console language
      const heading = $('suggestions').querySelector('h3');
      if (heading && heading.textContent !== ui('suggestions_heading')) render();
      return;
    }
    Object.assign(state, { id, reference, items: [], failed: false });
    render();
    load();
  }

  /* ---------- showing ---------- */
  function item(suggestion, index) {
    const li = el('li');
    const head = el('div', 'suggestion-head');
    const button = el('button', 'secondary', suggestion.title);
    button.type = 'button';
    button.dataset.index = String(index);
    button.disabled = $('reply').disabled;
    const text = el('p', 'suggestion-text', suggestion.text);
    text.id = `suggestion-text-${index}`;
    text.title = suggestion.text;
    button.setAttribute('aria-describedby', text.id);
    const kind = el('span', 'tag normal', ui(suggestion.kind === 'canned' ? 'suggestions_canned' : 'suggestions_faq'));
    head.append(button, kind);
    li.append(head, text);
    return li;
  }
  function render() {
    const section = $('suggestions');
    state.disabled = $('reply').disabled;
    if (state.id == null) { section.replaceChildren(); return; }
    section.setAttribute('aria-label', ui('suggestions_heading'));
    const parts = [el('h3', null, ui('suggestions_heading'))];
    if ($('reply').disabled && state.items.length) parts.push(el('p', 'hint', ui('suggestions_claim')));
    if (state.failed) parts.push(el('p', 'muted', ui('suggestions_error')));
    else if (!state.items.length && state.query !== null) parts.push(el('p', 'muted', ui('suggestions_empty')));
    if (state.items.length) {
      const list = el('ol');
      // a scrolling list whose buttons are disabled (not claimed yet) must still be reachable
      // by keyboard to scroll it (axe: scrollable-region-focusable)
      list.tabIndex = 0;
      list.setAttribute('aria-label', ui('suggestions_heading'));
      list.append(...state.items.map(item));
      parts.push(list);
    }
    section.replaceChildren(...parts);
  }

  /* ---------- inserting ---------- */
  function insert(text) {
    const reply = $('reply');
    if (reply.disabled) return;
    const typed = reply.value.replace(/\s+$/, '');
    reply.value = typed ? `${typed}\n\n${text}` : text;
    reply.focus();
    reply.setSelectionRange(reply.value.length, reply.value.length);
    // as if typed: agent.js tells the customer the agent is typing, and the list re-ranks
    reply.dispatchEvent(new Event('input', { bubbles: true }));
  }

  /* ---------- wiring ---------- */
  const style = document.createElement('style');
  style.textContent = STYLE;
  document.head.append(style);

  $('suggestions').addEventListener('click', (e) => {
    const button = e.target.closest('button[data-index]');
    const suggestion = button && state.items[Number(button.dataset.index)];
    if (suggestion) insert(suggestion.text);
  });
  $('reply').addEventListener('input', schedule);
  new MutationObserver(follow).observe($('reference'), { childList: true, characterData: true, subtree: true });
  new MutationObserver(follow).observe($('detail-body'), { attributes: true, attributeFilter: ['hidden'] });
  // claimed (or no longer the agent's): the buttons follow whether the reply box takes text
  new MutationObserver(() => {
    if ($('reply').disabled !== state.disabled) render();
  }).observe($('reply'), { attributes: true, attributeFilter: ['disabled'] });
  // a reply was sent, and agent.js emptied the box without an input event
  new MutationObserver(schedule).observe($('messages'), { childList: true });
  follow();
})();
