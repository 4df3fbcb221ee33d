'use strict';
// Errors: bad options name the option, native failures become Errors with
// .code and .errno, failures on the wire become 'error' events.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { once } = require('node:events');
const { WebSocketServer } = require('ws');
const { Server, Client, codes } = require('ssews');
const { next, first, collect, closer } = require('./helpers');

const T = { timeout: 20000 };

// An Error with this code whose message names `words`.
function fails(code, ...words) {
  return (err) => {
    assert.ok(err instanceof Error, 'an Error');
    assert.equal(err.code, code);
    if (code.startsWith('SSEWS_')) assert.equal(err.errno, codes[code]);
    for (const w of words) assert.ok(err.message.includes(w), `"${err.message}" names ${w}`);
    return true;
  };
}

// A port nothing listens on.
async function freePort() {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

test('a bad option throws an Error that names it', () => {
  assert.throws(() => new Server({ port: 70000 }), fails('SSEWS_EOPTION', 'port', '70000'));
  assert.throws(() => new Server({ no_such_option: 1 }), fails('SSEWS_EOPTION', 'no_such_option'));
  assert.throws(() => new Server({ history: -1 }), fails('SSEWS_EOPTION', 'history'));
  assert.throws(() => new Server({ queue_policy: 'sometimes' }), fails('SSEWS_EOPTION', 'queue_policy'));
  assert.throws(() => new Server({ reconnect: false }), fails('SSEWS_EOPTION', 'reconnect'));
  assert.throws(() => new Server({ port: { nested: 1 } }), fails('SSEWS_EOPTION', 'port'));
  assert.throws(() => new Server({ url: 'ws://127.0.0.1:1/' }), fails('SSEWS_EOPTION', 'url'));
  assert.throws(() => new Server('port=0'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => new Client('ws://127.0.0.1:1/', { history: 5 }), fails('SSEWS_EOPTION', 'history'));
  assert.throws(() => new Client('ws://127.0.0.1:1/', { connect_timeout: 'soon' }), fails('SSEWS_EOPTION', 'connect_timeout'));
  assert.throws(() => new Client('ws://127.0.0.1:1/', { headers: { 'X-A': 'a\r\nX-B: b' } }), fails('SSEWS_EOPTION', 'header'));
  assert.throws(() => new Client('ws://127.0.0.1:1/', { headers: 'X-A: a' }), fails('SSEWS_EOPTION', 'headers'));
});

test('a bad URL or port is an Error with its code', async () => {
  assert.throws(() => new Client('ftp://example.com/'), fails('SSEWS_EURL', 'url'));
  assert.throws(() => new Client('ws://'), fails('SSEWS_EURL'));
  assert.throws(() => new Client(42), { code: 'ERR_INVALID_ARG_TYPE' });
  const one = new Server({ port: 0 });
  try {
    assert.throws(() => new Server({ port: one.port }), fails('SSEWS_ELISTEN', String(one.port)));
  } finally {
    await one.close();
  }
});

test('bad arguments to calls throw; so do calls the library refuses', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, max_message_size: 16 }));
  const serverOpen = next(server, 'open');
  const client = keep(new Client(`ws://127.0.0.1:${server.port}/c`, { reconnect: false, max_message_size: 1000 }));
  await next(client, 'open');
  const { conn } = await serverOpen;

  assert.throws(() => server.publish(42, 'x'), { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
  assert.throws(() => server.publish('c', 42), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => server.publish('c', { an: 'object' }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => server.publish('', 'x'), fails('SSEWS_EINVAL', 'channel'));
  assert.throws(() => server.publish('c', 'x', { id: 'two\nlines' }), fails('SSEWS_EINVAL', 'id'));
  assert.throws(() => server.publish('c', 'x'.repeat(17)), fails('SSEWS_ETOOBIG', 'max_message_size'));
  assert.throws(() => server.publish('c\0d', 'x'), fails('SSEWS_EINVAL', 'NUL'));
  assert.throws(() => server.send(9999, 'x'), fails('SSEWS_ENOCONN', '9999'));
  assert.throws(() => server.send(-1, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => server.send(1.5, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => server.closeConnection(conn, 1005), fails('SSEWS_EINVAL', '1005'));
  assert.throws(() => server.reject(conn, 200), fails('SSEWS_EINVAL', 'http_status'));
  assert.throws(() => server.subscribe(conn, ''), fails('SSEWS_EINVAL'));
  assert.throws(() => client.send('x'.repeat(1001)), fails('SSEWS_ETOOBIG', '1000'));
  await assert.rejects(client.close(999, 'bad code'), fails('SSEWS_EINVAL', '999'));
  assert.equal(client.closed, false, 'a refused close leaves the client open');

  // Connection ids may also be BigInts.
  const got = next(client, 'message');
  server.send(BigInt(conn), 'by bigint');
  assert.equal((await got).data, 'by bigint');
});

test('after close(), calls throw SSEWS_ECLOSED and close() returns the same promise', async () => {
  const server = new Server({ port: 0 });
  const client = new Client(`ws://127.0.0.1:${server.port}/`, { reconnect: false });
  client.on('error', (err) => assert.equal(err.code, 'SSEWS_ECONNECT')); // the server may be gone first
  const p = server.close();
  assert.equal(server.close(), p);
  assert.equal(server.closed, true);
  assert.throws(() => server.publish('c', 'x'), fails('SSEWS_ECLOSED'));
  await p;
  assert.throws(() => server.send(1, 'x'), fails('SSEWS_ECLOSED'));
  await client.close();
  assert.throws(() => client.send('x'), fails('SSEWS_ECLOSED'));
  assert.equal(server.port > 0, true, 'port stays readable');
});

test('close() from inside its own handler: later calls throw SSEWS_ECLOSED, the close events still come first', T, async (t) => {
  const keep = closer(t);
  const server = new Server({ port: 0 });
  const opens = collect(server, 'open', 3);
  const clients = [0, 1, 2].map((i) => keep(new Client(`ws://127.0.0.1:${server.port}/${i}`, { reconnect: false })));
  await Promise.all(clients.map((c) => next(c, 'open')));
  await opens;
  const closes = [];
  server.on('close', (ev) => closes.push(ev));
  const closing = new Promise((resolve, reject) => {
    server.on('message', (ev) => {
      if (ev.data !== 'stop') {
        // Calls up to the close; messages read before it still come after.
        if (!server.closed) server.publish('room', ev.data);
        return;
      }
      try {
        server.publish('room', 'before');
        const p = server.close();
        assert.equal(server.close(), p);
        assert.equal(server.closed, true);
        assert.throws(() => server.publish('room', 'after'), fails('SSEWS_ECLOSED'));
        assert.throws(() => server.send(ev.conn, 'after'), fails('SSEWS_ECLOSED'));
        resolve(p);
      } catch (err) {
        reject(err);
      }
    });
  });
  for (let i = 0; i < 50; i++) clients[1 + (i % 2)].send(`m${i}`);
  clients[0].send('stop');
  for (let i = 50; i < 100; i++) clients[1 + (i % 2)].send(`m${i}`);
  await closing; // adopts close()'s promise: resolves once the endpoint has ended
  assert.equal(closes.length, 3, 'every close event came before close() resolved');
  assert.ok(closes.every((ev) => ev.code === 1001));
  assert.throws(() => server.publish('room', 'later'), fails('SSEWS_ECLOSED'));
});

test('a client that cannot connect reports error and reconnecting events, then gives up', T, async () => {
  const port = await freePort();
  const client = new Client(`ws://127.0.0.1:${port}/`, { reconnect_delay_ms: 10, reconnect_max_attempts: 2 });
  const events = [];
  for await (const ev of client) events.push(ev); // ends when the client has stopped for good
  // The first connect and two reconnects fail, then it stops.
  const kinds = events.map((e) => e.type);
  assert.deepEqual(kinds, ['error', 'reconnecting', 'error', 'reconnecting', 'error', 'close']);
  const [err, , , again, , end] = events;
  assert.ok(err instanceof Error);
  assert.equal(err.code, 'SSEWS_ECONNECT');
  assert.equal(err.errno, codes.SSEWS_ECONNECT);
  assert.equal(err.conn, 1);
  assert.equal(err.protocol, 'websocket');
  assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.equal(again.attempt, 2);
  assert.ok(again.delay >= 0);
  assert.equal(end.code, 1006);
  assert.match(end.reason, /gave up after 2/);
  assert.equal(client.closed, true);
});

test('an SSE client on a server that is not SSE: SSEWS_EHTTP, and it stops', T, async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  t.after(() => new Promise((resolve) => wss.close(resolve)));
  await once(wss, 'listening');
  const client = new Client(`http://127.0.0.1:${wss.address().port}/`);
  const [err, end] = await Promise.all([first(client, 'error'), first(client, 'close')]);
  assert.equal(err.code, 'SSEWS_EHTTP');
  assert.equal(err.protocol, 'sse');
  assert.equal(end.code, 1006);
  await client.close();
});

test('a slow WebSocket consumer under queue_policy=close is closed with 1008', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, max_queue_bytes: 65536, queue_policy: 'close' }));
  const errors = [];
  server.on('error', (err) => errors.push(err));
  // A raw TCP peer that upgrades and then never reads.
  const sock = net.connect(server.port, '127.0.0.1');
  t.after(() => sock.destroy());
  await once(sock, 'connect');
  const opened = next(server, 'open');
  sock.write(
    'GET /flood HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const { conn } = await opened;
  sock.pause();
  let closed = null;
  server.once('close', (ev) => (closed = ev));
  const chunk = Buffer.alloc(1024, 1);
  // Publish until the server gives up on the peer (socket buffers fill first).
  while (!closed) {
    for (let i = 0; i < 64; i++) server.publish('flood', chunk);
    await new Promise(setImmediate); // let events in
  }
  assert.equal(closed.conn, conn);
  assert.equal(closed.code, 1008);
  for (const err of errors) assert.equal(err.code, 'SSEWS_ESLOW');
});

test("a peer's failure on a server without an 'error' listener does not throw; the close event tells", T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, max_message_size: 8 }));
  const client = keep(new Client(`ws://127.0.0.1:${server.port}/`, { reconnect: false }));
  await next(client, 'open');
  const closed = first(server, 'close');
  client.send('more than eight bytes');
  assert.equal((await closed).code, 1009);
  assert.equal(server.listenerCount('error'), 0);
});

test('codes are the C library\'s: SSEWS_ERRNO_MAP, and the typings list the same names', () => {
  // The addon builds `codes` from ssews_err_name at load; the map is in the header template.
  // The package's own copies (the checkout, or an installed tarball's).
  const root = path.dirname(require.resolve('ssews/package.json'));
  const header = fs.readFileSync(path.join(root, 'capi', 'include', 'ssews.h.in'), 'utf8');
  const want = {};
  for (const m of header.matchAll(/XX\((\w+), (-?\d+), "/g)) if (m[1] !== 'OK') want[`SSEWS_${m[1]}`] = Number(m[2]);
  assert.ok(Object.keys(want).length >= 20);
  assert.deepEqual({ ...codes }, want);
  assert.ok(Object.isFrozen(codes));
  const dts = fs.readFileSync(path.join(root, 'bindings', 'node', 'index.d.ts'), 'utf8');
  const union = dts.match(/export type ErrorCode =([^;]*);/)[1];
  assert.deepEqual([...union.matchAll(/'(SSEWS_\w+)'/g)].map((m) => m[1]).sort(), Object.keys(want).sort());
});
