'use strict';
// ssews against third-party peers from npm: `ws` as client and as server,
// `eventsource` (the WHATWG EventSource for Node) reading the SSE stream.
const test = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { WebSocket, WebSocketServer } = require('ws');
const { EventSource } = require('eventsource');
const { Server, Client } = require('ssews');
const { next, collect, closer } = require('./helpers');

const T = { timeout: 20000 };

// Closes a ws server and drops its connections (ws waits for them otherwise).
function stopWss(wss) {
  for (const sock of wss.clients) sock.terminate();
  return new Promise((resolve) => wss.close(resolve));
}

// Resolves with the next `n` messages of a `ws` socket as [data, isBinary].
function wsMessages(ws, n) {
  return new Promise((resolve) => {
    const got = [];
    const on = (data, isBinary) => {
      got.push([isBinary ? data : data.toString(), isBinary]);
      if (got.length === n) {
        ws.off('message', on);
        resolve(got);
      }
    };
    ws.on('message', on);
  });
}

test('per-address limits (issue 16) answer a ws client 429 with Retry-After', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, max_connections_per_ip: 1 }));
  const held = new WebSocket(`ws://127.0.0.1:${server.port}/held`);
  t.after(() => held.terminate());
  await once(held, 'open');
  const more = new WebSocket(`ws://127.0.0.1:${server.port}/more`);
  more.on('error', () => {}); // the refusal is what this test waits for
  t.after(() => more.terminate());
  const [, res] = await once(more, 'unexpected-response');
  assert.equal(res.statusCode, 429);
  assert.ok(Number(res.headers['retry-after']) >= 1);
  let body = '';
  for await (const chunk of res) body += chunk;
  assert.match(body, /max_connections_per_ip \(1\)/);
});

test('a ws client talks to a Server: echo, publish, plain frames (no ssews.v1)', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  server.on('message', (ev) => server.send(ev.conn, ev.data));
  const serverOpen = next(server, 'open');
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/room`);
  t.after(() => ws.terminate());
  await once(ws, 'open');
  const open = await serverOpen;
  assert.equal(open.protocol, 'websocket');
  assert.deepEqual(open.channels, ['room']);
  assert.equal(ws.protocol, '', 'a plain peer');

  const got = wsMessages(ws, 4);
  ws.send('text from ws');
  ws.send(Buffer.from([1, 2, 3]));
  // Published after the echoes are queued: same connection, so in order.
  await collect(server, 'message', 2);
  server.publish('room', 'published text', { event: 'e', id: 'i' });
  server.publish('room', Buffer.from('published bytes'));
  const [a, b, c, d] = await got;
  assert.deepEqual(a, ['text from ws', false]);
  assert.deepEqual([[...b[0]], b[1]], [[1, 2, 3], true]);
  assert.deepEqual(c, ['published text', false], 'a plain peer gets exactly the published bytes');
  assert.deepEqual([d[0].toString(), d[1]], ['published bytes', true]);

  const closed = next(server, 'close');
  ws.close(4321, 'done here');
  const ev = await closed;
  assert.equal(ev.conn, open.conn);
  assert.equal(ev.code, 4321);
  assert.equal(ev.reason, 'done here');
});

test('a ws client is rejected in the open handler: close 1008', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  server.on('open', (ev) => server.reject(ev.conn));
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
  t.after(() => ws.terminate());
  const [code] = await once(ws, 'close');
  assert.equal(code, 1008);
});

test('a Server closes a ws client with a code; server.close() sends 1001', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  const opens = collect(server, 'open', 2);
  const ws1 = new WebSocket(`ws://127.0.0.1:${server.port}/?who=1`);
  const ws2 = new WebSocket(`ws://127.0.0.1:${server.port}/?who=2`);
  t.after(() => [ws1, ws2].forEach((w) => w.terminate()));
  const closed1 = once(ws1, 'close');
  const closed2 = once(ws2, 'close');
  const first = (await opens).find((o) => o.query === 'who=1');
  server.closeConnection(first.conn, 4000, 'kicked');
  const [code, reason] = await closed1;
  assert.equal(code, 4000);
  assert.equal(reason.toString(), 'kicked');
  await server.close();
  const [code2] = await closed2;
  assert.equal(code2, 1001);
});

test('a Client talks to a ws server (plain WebSocket)', T, async (t) => {
  // The ws server declines the ssews.v1 subprotocol: the Client works plain.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => false });
  t.after(() => stopWss(wss));
  await once(wss, 'listening');
  const { port } = wss.address();
  const seen = [];
  const headers = new Promise((resolve) => wss.once('headers', (h, req) => resolve(req.headers)));
  wss.on('connection', (sock) => {
    sock.on('message', (data, isBinary) => {
      seen.push([isBinary, isBinary ? [...data] : data.toString()]);
      sock.send(data, { binary: isBinary }); // echo
      if (seen.length === 2) sock.send('bye from ws');
    });
  });
  const keep = closer(t);
  const client = keep(new Client(`ws://127.0.0.1:${port}/x`, { headers: { 'X-Token': 'abc' }, reconnect: false }));
  await next(client, 'open');
  assert.equal((await headers)['x-token'], 'abc', 'the headers option is sent');
  const got = collect(client, 'message', 3);
  client.send('hi ws');
  client.send(Uint8Array.from([9, 8, 7]));
  const [a, b, c] = await got;
  assert.deepEqual([a.data, a.binary, a.channel], ['hi ws', false, null]);
  assert.deepEqual([[...b.data], b.binary], [[9, 8, 7], true]);
  assert.equal(c.data, 'bye from ws');
  assert.deepEqual(seen, [[false, 'hi ws'], [true, [9, 8, 7]]]);

  // The ws server ends the conversation with 1000: the client stops for good.
  const closed = next(client, 'close');
  for (const sock of wss.clients) sock.close(1000, 'that is all');
  const ev = await closed;
  assert.equal(ev.code, 1000);
  assert.equal(ev.reason, 'that is all');
  assert.equal(client.closed, true);
});

test('a Client gets plain messages from a default ws server, which selects ssews.v1', T, async (t) => {
  // ws' default handleProtocols takes the first offered subprotocol, so it
  // answers ssews.v1 without speaking it. The Client must not decode its
  // messages as v1 (issue 15, bug 0: 'malformed' errors, and with no 'error'
  // listener the process died).
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  t.after(() => stopWss(wss));
  await once(wss, 'listening');
  const selected = [];
  wss.on('connection', (sock) => {
    selected.push(sock.protocol);
    sock.send('plain from ws');
    sock.send(Buffer.from([0, 255, 1]));
  });
  const keep = closer(t);
  const client = keep(new Client(`ws://127.0.0.1:${wss.address().port}/`)); // default options
  const errors = [];
  client.on('error', (err) => errors.push(err));
  const [a, b] = await collect(client, 'message', 2);
  assert.deepEqual([a.data, a.binary, a.channel], ['plain from ws', false, null]);
  assert.deepEqual([[...b.data], b.binary], [[0, 255, 1], true]);
  assert.deepEqual(errors, []);
  assert.deepEqual(selected, ['ssews.v1'], 'ws did select it: the premise holds');
});

test('a Client reconnects to a ws server that drops it, and says so', T, async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => false });
  t.after(() => stopWss(wss));
  await once(wss, 'listening');
  let connections = 0;
  wss.on('connection', (sock) => {
    if (++connections === 1) sock.close(1012, 'service restart');
    else sock.send('welcome back');
  });
  const keep = closer(t);
  const client = keep(new Client(`ws://127.0.0.1:${wss.address().port}/`, { reconnect_delay_ms: 20 }));
  const r = await next(client, 'reconnecting');
  assert.equal(r.attempt, 1);
  const m = await next(client, 'message');
  assert.equal(m.data, 'welcome back');
  assert.equal(connections, 2);
});

test('eventsource reads a Server stream: data, event types, ids', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  const serverOpen = next(server, 'open');
  const es = new EventSource(`http://127.0.0.1:${server.port}/?channel=a&channel=b`);
  t.after(() => es.close());
  await once(es, 'open');
  const open = await serverOpen;
  assert.equal(open.protocol, 'sse');
  assert.deepEqual(open.channels, ['a', 'b']);

  const got = [];
  const done = new Promise((resolve) => {
    es.addEventListener('message', (e) => got.push(['message', e.data, e.lastEventId]));
    es.addEventListener('tick', (e) => got.push(['tick', e.data, e.lastEventId]));
    es.addEventListener('binary', (e) => {
      got.push(['binary', Buffer.from(e.data, 'base64').toString(), e.lastEventId]);
      resolve();
    });
  });
  server.publish('a', 'plain', { id: 'x1' });
  server.publish('b', 'two\nlines', { event: 'tick', id: 'x2' });
  server.send(open.conn, 'direct', { id: 'x3' });
  server.publish('a', Buffer.from('bytes'), { id: 'x4' });
  await done;
  assert.deepEqual(got, [
    ['message', 'plain', 'x1'],
    ['tick', 'two\nlines', 'x2'],
    ['message', 'direct', 'x3'],
    ['binary', 'bytes', 'x4'],
  ]);
});

test('eventsource resumes with Last-Event-ID after the stream ends', { timeout: 30000 }, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, history: 10 }));
  const serverOpen = next(server, 'open');
  const es = new EventSource(`http://127.0.0.1:${server.port}/feed`);
  t.after(() => es.close());
  const received = [];
  let waiter = null;
  es.onmessage = (e) => {
    received.push(e.data);
    if (waiter) waiter();
  };
  const until = (n) => new Promise((resolve) => {
    waiter = () => received.length >= n && resolve();
    waiter();
  });
  await once(es, 'open');
  const first = await serverOpen;
  server.publish('feed', 'one');
  server.publish('feed', 'two');
  await until(2);

  // End the stream; publish while EventSource waits (3 s by default) to come back.
  server.once('close', () => server.publish('feed', 'three'));
  const reopened = next(server, 'open');
  server.closeConnection(first.conn);
  const again = await reopened;
  assert.notEqual(again.conn, first.conn);
  server.publish('feed', 'four');
  await until(4);
  assert.deepEqual(received, ['one', 'two', 'three', 'four'], 'nothing missed, nothing twice');
});

test('the subprotocols option answers a ws client that offers one; unknown offers get none', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, subprotocols: 'chat' }));
  const opened = next(server, 'open');
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/room`, ['mqtt', 'chat']);
  await once(ws, 'open');
  assert.equal(ws.protocol, 'chat');
  assert.equal((await opened).subprotocol, 'chat');
  ws.close();
  // Only unknown offers: answered 101 without a subprotocol (RFC 6455 4.2.2),
  // which ws, strict, then fails itself; a refusal would be "Unexpected server response: 400".
  const other = new WebSocket(`ws://127.0.0.1:${server.port}/room`, ['mqtt']);
  const [err] = await once(other, 'error');
  assert.equal(err.message, 'Server sent no subprotocol');
});

test('compression on: a default ws client negotiates permessage-deflate and gets broadcasts', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, compression: 'on' }));
  const opened = next(server, 'open');
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/?channel=feed`);
  await once(ws, 'open');
  await opened;
  assert.match(ws.extensions, /permessage-deflate/);
  const big = JSON.stringify({ rows: Array.from({ length: 50 }, (_, i) => ({ i, name: `row ${i}` })) });
  const got = wsMessages(ws, 1);
  server.publish('feed', big);
  assert.equal((await got)[0][0], big);
  ws.close();
});
