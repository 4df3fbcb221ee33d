// ssews live room: chat over WebSocket, ticker and notices over Server-Sent Events.
// Plain browser JavaScript, no build step, no dependencies.
//
// - Chat: a WebSocket on channel "chat" with subprotocol ssews.v1, so every message carries its
//   id; after a drop (or a server restart) it reconnects with backoff and resumes with
//   ?last_event_id=<last id seen>. What it sends is JSON {"user","text"}; the hub publishes it to
//   everyone on the channel, the sender included.
// - Ticker and notices: the browser's own EventSource on channels "ticker" and "notices"
//   (events "ticker" and "notice"). It reconnects by itself and sends Last-Event-ID; should the
//   browser ever give up (readyState CLOSED), the page opens a new one with ?lastEventId=.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);

  // ---------------------------------------------------------------- connection badges
  function setBadge(el, state) {
    if (el.dataset.state === state) return;
    el.dataset.state = state;
    el.querySelector('.label').textContent = state;
  }
  const wsBadge = $('ws-state');
  const sseBadge = $('sse-state');

  // ---------------------------------------------------------------- who am I
  const ADJ = ['amber', 'brisk', 'calm', 'dapper', 'eager', 'fuzzy', 'gentle', 'jolly', 'lucky',
    'mellow', 'nimble', 'plucky', 'quiet', 'rapid', 'sunny', 'teal', 'witty', 'zesty'];
  const NOUN = ['otter', 'falcon', 'lynx', 'panda', 'heron', 'koala', 'badger', 'gecko', 'marten',
    'puffin', 'raven', 'walrus', 'yak', 'zebra', 'ibex', 'newt'];
  const pick = (a) => a[Math.floor(Math.random() * a.length)];
  const cleanName = (s) => String(s || '').trim().replace(/\s+/g, ' ').slice(0, 24);
  let me = cleanName(params.get('name')) || cleanName(sessionStorage.getItem('ssews-name')) ||
    `${pick(ADJ)}-${pick(NOUN)}-${Math.floor(10 + Math.random() * 90)}`;
  sessionStorage.setItem('ssews-name', me);
  const nameBtn = $('chat-name');
  nameBtn.textContent = me;
  nameBtn.addEventListener('click', () => {
    const n = cleanName(prompt('Your name in the chat', me));
    if (n) { me = n; nameBtn.textContent = me; sessionStorage.setItem('ssews-name', me); }
  });

  // ---------------------------------------------------------------- helpers
  function hue(s) {
    let h = 0;
    for (const c of s) h = (h * 31 + c.codePointAt(0)) >>> 0;
    return h % 360;
  }
  const clock = (d) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function parseJson(s) {
    try { return JSON.parse(s); } catch { return undefined; }
  }
  function nearBottom(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 40; }
  function trim(box, max) { while (box.children.length > max) box.removeChild(box.firstElementChild); }

  // ---------------------------------------------------------------- chat (WebSocket)
  const chatLog = $('chat-log');
  const chatForm = $('chat-form');
  const chatInput = $('chat-input');
  const outbox = [];          // typed while disconnected: sent on the next open
  let ws = null;
  let wsAttempt = 0;
  let lastChatId = '';        // resume point (ssews.v1 ids)

  function addChat(data, id) {
    const m = parseJson(data);
    const user = m && typeof m === 'object' && m.user ? cleanName(m.user) : 'anonymous';
    const text = m && typeof m === 'object' ? String(m.text ?? '') : String(data);
    if (!text) return;
    $('chat-empty')?.remove();
    const stick = nearBottom(chatLog);
    const li = el('li', 'msg' + (user === me ? ' mine' : ''));
    li.dataset.testid = 'chat-message';
    li.dataset.user = user;
    if (id) li.dataset.id = id;
    const av = el('span', 'avatar', user.slice(0, 1).toUpperCase());
    av.style.setProperty('--h', hue(user));
    const body = el('div', 'msg-body');
    const head = el('div', 'msg-head');
    const who = el('span', 'msg-user', user);
    who.style.setProperty('--h', hue(user));
    head.append(who, el('span', 'msg-time', clock(new Date())));
    body.append(head, el('div', 'msg-text', text));
    li.append(av, body);
    chatLog.append(li);
    trim(chatLog, 300);
    if (stick || user === me) chatLog.scrollTop = chatLog.scrollHeight;
  }

  function addChatSystem(text) {
    $('chat-empty')?.remove();
    const li = el('li', 'system', text);
    li.dataset.testid = 'chat-system';
    chatLog.append(li);
    chatLog.scrollTop = chatLog.scrollHeight;
  }

  function connectChat() {
    setBadge(wsBadge, wsAttempt === 0 && !lastChatId ? 'connecting' : 'reconnecting');
    const url = new URL('/', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('channel', 'chat');
    if (lastChatId) url.searchParams.set('last_event_id', lastChatId);
    const sock = new WebSocket(url, ['ssews.v1']);
    sock.binaryType = 'arraybuffer';
    ws = sock;
    sock.onopen = () => {
      if (ws !== sock) return;
      wsAttempt = 0;
      setBadge(wsBadge, 'open');
      while (outbox.length && sock.readyState === WebSocket.OPEN) sock.send(outbox.shift());
    };
    sock.onmessage = (e) => {
      if (ws !== sock || typeof e.data !== 'string') return;   // binary: not for this page
      if (sock.protocol !== 'ssews.v1') { addChat(e.data, ''); return; }
      const m = parseJson(e.data);
      if (!m || typeof m !== 'object') return;
      if (m.event === 'ssews-gap') { addChatSystem('Reconnected to a restarted server: replaying what it still holds.'); return; }
      if (m.id) lastChatId = m.id;
      addChat(typeof m.data === 'string' ? m.data : '', m.id || '');
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null;
      setBadge(wsBadge, 'reconnecting');
      // Exponential backoff with jitter: 0.5 s, 1 s, 2 s, … capped at 10 s.
      const delay = Math.min(10000, 500 * 2 ** Math.min(wsAttempt, 5)) * (0.8 + Math.random() * 0.4);
      wsAttempt++;
      setTimeout(connectChat, delay);
    };
  }

  chatForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = chatInput.value.trim();
    if (!text) return;
    const msg = JSON.stringify({ user: me, text });
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(msg);
    else outbox.push(msg);
    chatInput.value = '';
    chatInput.focus();
  });

  // ---------------------------------------------------------------- ticker and notices (SSE)
  const notices = $('notices');
  const tickerCard = $('ticker');
  const prices = [];
  let lastPrice = null;
  let noticeCount = 0;
  let es = null;
  let esLastId = '';
  let esAttempt = 0;
  let esEverOpen = false;

  function drawSpark() {
    const line = $('spark-line');
    const area = $('spark-area');
    if (prices.length < 2) { line.setAttribute('d', ''); area.setAttribute('d', ''); return; }
    const lo = Math.min(...prices);
    const hi = Math.max(...prices);
    const span = hi - lo || 1;
    const pts = prices.map((p, i) => [(i / (prices.length - 1)) * 200, 56 - ((p - lo) / span) * 52]);
    const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join('');
    line.setAttribute('d', d);
    area.setAttribute('d', `${d}L200,60L0,60Z`);
  }

  let tickCount = 0;
  let high = -Infinity;
  let low = Infinity;

  function onTicker(e) {
    const t = parseJson(e.data);
    if (!t || typeof t !== 'object') return;
    $('ticker-count').textContent = String(++tickCount);
    tickerCard.dataset.id = e.lastEventId;
    tickerCard.dataset.event = e.type;
    $('ticker-id').textContent = e.lastEventId || '–';
    if (typeof t.symbol === 'string' && t.symbol) $('ticker-symbol').textContent = t.symbol.slice(0, 8);
    if (Number.isFinite(t.viewers)) {
      $('ticker-viewers').textContent = String(t.viewers);
      $('stream-viewers').textContent = String(t.viewers);
    }
    if (Number.isFinite(t.price)) {
      $('ticker-price').textContent = t.price.toFixed(2);
      const ch = $('ticker-change');
      if (lastPrice !== null) {
        const diff = t.price - lastPrice;
        const pct = lastPrice ? (diff / lastPrice) * 100 : 0;
        ch.dataset.dir = diff > 0 ? 'up' : diff < 0 ? 'down' : 'flat';
        ch.textContent = `${diff >= 0 ? '+' : '−'}${Math.abs(diff).toFixed(2)} (${Math.abs(pct).toFixed(2)} %)`;
      } else {
        ch.dataset.dir = 'flat';
        ch.textContent = 'first tick';
      }
      const flash = $('ticker-price');
      flash.classList.remove('tick-up', 'tick-down');
      void flash.offsetWidth;   // restart the flash animation
      if (lastPrice !== null && t.price !== lastPrice) flash.classList.add(t.price > lastPrice ? 'tick-up' : 'tick-down');
      lastPrice = t.price;
      high = Math.max(high, t.price);
      low = Math.min(low, t.price);
      $('ticker-high').textContent = high.toFixed(2);
      $('ticker-low').textContent = low.toFixed(2);
      prices.push(t.price);
      if (prices.length > 60) prices.shift();
      drawSpark();
    }
  }

  function addNotice(e) {
    $('notices-empty')?.remove();
    const n = parseJson(e.data);
    const text = n && typeof n === 'object' ? String(n.text ?? '') : String(e.data);
    const level = n && typeof n === 'object' && /^(info|success|warning)$/.test(n.level) ? n.level : 'info';
    const li = el('li', `notice level-${level}`);
    li.dataset.testid = 'notice';
    li.dataset.id = e.lastEventId;
    li.dataset.event = e.type;
    const head = el('div', 'notice-head');
    head.append(el('span', 'notice-time', clock(new Date())), el('code', 'notice-id', `#${e.lastEventId || '–'}`));
    li.append(el('span', 'notice-icon'), el('div', 'notice-main'));
    li.lastChild.append(el('div', 'notice-text', text), head);
    notices.prepend(li);   // newest first
    while (notices.children.length > 50) notices.removeChild(notices.lastElementChild);
    $('notice-count').textContent = String(++noticeCount);
  }

  function addGap(e) {
    $('notices-empty')?.remove();
    const li = el('li', 'notice gap', 'Reconnected to a restarted server: replaying what it still holds.');
    li.dataset.testid = 'gap';
    li.dataset.from = e.data;
    notices.prepend(li);
  }

  function connectFeed() {
    const url = new URL('/', location.href);
    url.searchParams.append('channel', 'ticker');
    url.searchParams.append('channel', 'notices');
    if (esLastId) url.searchParams.set('lastEventId', esLastId);   // only for a new EventSource
    const src = new EventSource(url);
    es = src;
    const seen = (e) => { if (e.lastEventId) esLastId = e.lastEventId; };
    src.onopen = () => { esAttempt = 0; esEverOpen = true; setBadge(sseBadge, 'open'); };
    src.onerror = () => {
      if (es !== src) return;
      setBadge(sseBadge, esEverOpen ? 'reconnecting' : 'connecting');
      if (src.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. an HTTP error): open a new one ourselves, with backoff.
        src.close();
        es = null;
        const delay = Math.min(10000, 1000 * 2 ** Math.min(esAttempt, 4)) * (0.8 + Math.random() * 0.4);
        esAttempt++;
        setTimeout(connectFeed, delay);
      }
    };
    src.addEventListener('ticker', (e) => { seen(e); onTicker(e); });
    src.addEventListener('notice', (e) => { seen(e); addNotice(e); });
    src.addEventListener('ssews-gap', addGap);
    src.onmessage = (e) => { seen(e); addNotice(e); };   // unnamed events: shown as notices
  }

  // ---------------------------------------------------------------- stream clock
  const started = Date.now();
  setInterval(() => {
    const s = Math.floor((Date.now() - started) / 1000);
    $('stream-clock').textContent = [s / 3600, (s / 60) % 60, s % 60]
      .map((v) => String(Math.floor(v)).padStart(2, '0')).join(':');
  }, 1000);

  connectChat();
  connectFeed();
})();
