'use strict';
// SSE over HTTP/2: a TLS Server offers h2 in ALPN, and Node's own `http2`
// client opens many SSE streams on one session; resume, heartbeats, the
// publish endpoint and static files work over h2 too, WebSocket stays on
// HTTP/1.1, and a stream whose reader stops does not stall the others.
const test = require('node:test');
const assert = require('node:assert/strict');
const http2 = require('node:http2');
const tls = require('node:tls');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { WebSocket } = require('ws');
const { Server } = require('ssews');
const { next, closer, tlsCert } = require('./helpers');

const T = { timeout: 15000 };

// A self-signed certificate for 127.0.0.1, made with openssl.
const { cert, key } = tlsCert('ssews-h2-');

function h2server(t, extra = {}) {
  return closer(t)(new Server({ port: 0, tls_cert: cert, tls_key: key, ...extra }));
}

async function connect(t, server) {
  const session = http2.connect(`https://127.0.0.1:${server.port}`, { rejectUnauthorized: false });
  t.after(() => session.destroy());
  await once(session, 'connect');
  return session;
}

// An SSE stream on a session: its response headers, and its events parsed
// as they come (test-side parsing of text/event-stream).
function sse(session, p, headers = {}) {
  const req = session.request({ ':path': p, accept: 'text/event-stream', ...headers });
  req.setEncoding('utf8');
  const s = { req, events: [], comments: 0, buf: '', waiters: [] };
  s.response = once(req, 'response').then(([h]) => h);
  req.on('data', (chunk) => {
    s.buf += chunk;
    let end;
    while ((end = s.buf.indexOf('\n\n')) >= 0) {
      const block = s.buf.slice(0, end);
      s.buf = s.buf.slice(end + 2);
      const ev = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) { s.comments++; continue; }
        const i = line.indexOf(':');
        const k = line.slice(0, i), v = line.slice(i + 1).replace(/^ /, '');
        ev[k] = k === 'data' && ev.data !== undefined ? ev.data + '\n' + v : v;
      }
      if (ev.data !== undefined) s.events.push(ev);
    }
    s.waiters = s.waiters.filter((w) => !w());
  });
  s.until = (pred) => new Promise((resolve) => {
    const w = () => pred(s) && (resolve(s), true);
    if (!w()) s.waiters.push(w);
  });
  return s;
}

// Resolves once the server has seen n SSE opens.
function opens(server, n) {
  return new Promise((resolve) => {
    const got = [];
    const on = (ev) => {
      if (ev.protocol !== 'sse') return;
      got.push(ev);
      if (got.length === n) { server.off('open', on); resolve(got); }
    };
    server.on('open', on);
  });
}

test('50 SSE streams on one h2 session all receive, in order', T, async (t) => {
  const server = h2server(t);
  const session = await connect(t, server);
  assert.equal(session.alpnProtocol, 'h2');
  const opened = opens(server, 50);
  const streams = [];
  for (let i = 0; i < 50; i++) streams.push(sse(session, `/feed?channel=all&channel=s${i}`));
  const evs = await opened;
  assert.deepEqual(evs.map((e) => e.path).filter((p) => p === '/feed').length, 50);
  const h = await streams[0].response;
  assert.equal(h[':status'], 200);
  assert.equal(h['content-type'], 'text/event-stream');
  assert.equal(h['x-ssews'], 'v1');
  for (let k = 0; k < 5; k++) server.publish('all', `m${k}`);
  for (let i = 0; i < 50; i++) server.publish(`s${i}`, `just ${i}`);
  await Promise.all(streams.map((s) => s.until((x) => x.events.length === 6)));
  streams.forEach((s, i) => assert.deepEqual(s.events.map((e) => e.data), ['m0', 'm1', 'm2', 'm3', 'm4', `just ${i}`]));
});

test('a stalled h2 stream does not stall the others on its connection', T, async (t) => {
  const server = h2server(t, { max_queue_bytes: 1 << 20 });
  const session = await connect(t, server);
  const opened = opens(server, 2);
  const stalled = sse(session, '/big');
  const live = sse(session, '/big');
  await opened;
  await Promise.all([stalled.until((s) => s.comments > 0), live.until((s) => s.comments > 0)]);
  stalled.req.pause();  // its reader stops: its window fills, no WINDOW_UPDATE
  const errors = [];
  server.on('error', (e) => errors.push(e));
  const chunk = 'x'.repeat(8000);
  const N = 400;  // 3.2 MB: far past the stalled stream's window (64 KiB) and queue (1 MiB)
  for (let k = 0; k < N; k += 20) {
    // In steps the live reader keeps up with, so only the stalled one falls behind.
    for (let j = k; j < k + 20; j++) server.publish('big', `${j} ${chunk}`);
    await live.until((s) => s.events.length === k + 20);
  }
  assert.deepEqual(live.events.map((e) => Number(e.data.split(' ')[0])), [...Array(N).keys()]);
  assert.ok(stalled.events.length < N, `the stalled reader got ${stalled.events.length}`);
  // The slow-consumer policy (drop_oldest) applied to the stalled one only.
  assert.ok(errors.some((e) => /slow consumer/.test(e.message)), 'a slow-consumer error event');
  stalled.req.resume();
  await stalled.until((s) => s.events.some((e) => e.data.startsWith(`${N - 1} `)));
});

test('over h2: resume (last_event_id), heartbeats, the publish endpoint and static files', T, async (t) => {
  const www = fs.mkdtempSync(path.join(os.tmpdir(), 'ssews-www-'));
  t.after(() => fs.rmSync(www, { recursive: true, force: true }));
  fs.writeFileSync(path.join(www, 'index.html'), '<p>over h2</p>');
  const big = 'f'.repeat(300000);  // many DATA frames (lws wrote a file chunk as one frame over 16 KiB)
  fs.writeFileSync(path.join(www, 'big.txt'), big);
  const server = h2server(t, { history: 10, heartbeat: 1, publish_token: 'tok', static_dir: www });
  const session = await connect(t, server);

  const post = (q, body) => new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': `/publish?${q}`, authorization: 'Bearer tok',
      'content-length': Buffer.byteLength(body) });
    let text = '', status;
    req.on('response', (h) => { status = h[':status']; });
    req.setEncoding('utf8');
    req.on('data', (d) => { text += d; });
    req.on('end', () => resolve([status, JSON.parse(text)]));
    req.on('error', reject);
    req.end(body);
  });
  // Bodies of many DATA frames, one after the other on the session, reach a
  // subscriber whole (lws 4.1.6 failed such bodies with GOAWAY when one read
  // held a frame's end and more: the relay hands it a frame at a time).
  const bulk = sse(session, '/bulk');
  await bulk.response;
  const body = 'b'.repeat(200000);
  for (let i = 0; i < 8; i++) assert.equal((await post('channel=bulk', body))[0], 200);
  await bulk.until((s) => s.events.length === 8);
  assert.ok(bulk.events.every((e) => e.data === body));
  bulk.req.close();
  const [st1, a] = await post('channel=news', 'one');
  const [st2, b] = await post('channel=news&event=e', 'two');
  assert.deepEqual([st1, st2], [200, 200]);
  assert.equal(b.subscribers, 0);

  // Resume by the query, and by the Last-Event-ID header as an EventSource
  // sends it (lws 4.1.6's HPACK decoder drops that header: the relay moves
  // it into the query, h2_request_headers.h), the header winning over a
  // query that says otherwise.
  const byQuery = sse(session, `/news?last_event_id=${encodeURIComponent(a.id)}`);
  await byQuery.until((s) => s.events.length === 1);
  assert.deepEqual(byQuery.events[0], { id: b.id, event: 'e', data: 'two' });
  byQuery.req.close();
  const byHeader = sse(session, '/news?channel=news', { 'last-event-id': a.id });
  await byHeader.until((s) => s.events.length === 1);
  assert.deepEqual(byHeader.events[0], { id: b.id, event: 'e', data: 'two' });
  byHeader.req.close();
  const resumed = sse(session, '/news?last_event_id=nonsense', { 'last-event-id': a.id });
  await resumed.until((s) => s.events.length === 1);
  assert.deepEqual(resumed.events[0], { id: b.id, event: 'e', data: 'two' });
  const before = resumed.comments;
  await resumed.until((s) => s.comments >= before + 2);  // heartbeats keep coming (1 s)

  const file = await new Promise((resolve) => {
    const req = session.request({ ':path': '/' });
    let body = '';
    req.setEncoding('utf8');
    req.on('response', (h) => { req.status = h[':status']; });
    req.on('data', (d) => { body += d; });
    req.on('end', () => resolve([req.status, body]));
  });
  assert.deepEqual(file, [200, '<p>over h2</p>']);
  const large = await new Promise((resolve) => {
    const req = session.request({ ':path': '/big.txt' });
    let text = '';
    req.setEncoding('utf8');
    req.on('response', (h) => { req.status = h[':status']; });
    req.on('data', (d) => { text += d; });
    req.on('end', () => resolve([req.status, text.length, text === big]));
  });
  assert.deepEqual(large, [200, big.length, true]);
});

test('with TLS, WebSocket keeps HTTP/1.1; ALPN picks h2, or http/1.1 with http2: false', T, async (t) => {
  const server = h2server(t);
  const ws = new WebSocket(`wss://127.0.0.1:${server.port}/chat`, { rejectUnauthorized: false });
  t.after(() => ws.terminate());
  const [open] = await Promise.all([next(server, 'open'), once(ws, 'open')]);
  assert.equal(open.protocol, 'websocket');
  server.send(open.conn, 'over h1');
  const [data] = await once(ws, 'message');
  assert.equal(data.toString(), 'over h1');

  // What ALPN picks for a client that offers both, as browsers do.
  const alpn = async (port) => {
    const sock = tls.connect({ host: '127.0.0.1', port, ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false });
    await once(sock, 'secureConnect');
    sock.destroy();
    return sock.alpnProtocol;
  };
  assert.equal(await alpn(server.port), 'h2');
  assert.equal(await alpn(h2server(t, { http2: false }).port), 'http/1.1');
});

test('a stream the client cancels (RST_STREAM) does not disturb its siblings; its close comes at the latest with the connection', T, async (t) => {
  const server = h2server(t);
  const session = await connect(t, server);
  const opened = opens(server, 2);
  const gone = sse(session, '/x');
  const stays = sse(session, '/x');
  const conns = (await opened).map((o) => o.conn);
  await gone.response;
  gone.req.close();  // RST_STREAM(CANCEL): the connection stays
  await once(gone.req, 'close');
  server.publish('x', 'after one left');
  await stays.until((s) => s.events.length === 1);
  assert.equal(stays.events[0].data, 'after one left');
  // lws 4.1.6 marks a reset stream closed without telling (docs/protocol.md):
  // ssews learns of it when the connection ends.
  const closes = [];
  const done = new Promise((resolve) => server.on('close', (ev) => { closes.push(ev.conn); if (closes.length === 2) resolve(); }));
  session.destroy();
  await done;
  assert.deepEqual(closes.sort(), conns.sort());
});
