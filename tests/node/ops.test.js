'use strict';
// Operations (issue 18) from Node: stats(), bufferedAmount() and the 'drain'
// event with a `ws` peer that stops reading, channelStats() and presence().
const test = require('node:test');
const assert = require('node:assert/strict');
const { WebSocket } = require('ws');
const { Server } = require('ssews');
const { next, closer } = require('./helpers');

const T = { timeout: 30000 };

function wsOpen(url) {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

test('stats() counts what the test sent', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  assert.equal(server.stats().messages_published, 0);
  const opened = next(server, 'open');
  const ws = await wsOpen(`ws://127.0.0.1:${server.port}/feed`);
  await opened;
  const got = new Promise((resolve) => {
    const seen = [];
    ws.on('message', (m) => {
      seen.push(String(m));
      if (seen.length === 3) resolve(seen);
    });
  });
  for (const m of ['a', 'b', 'c']) server.publish('feed', m);
  assert.deepEqual(await got, ['a', 'b', 'c']);
  const s = server.stats();
  assert.equal(s.connections_websocket, 1);
  assert.equal(s.messages_published, 3);
  assert.equal(s.deliveries_websocket, 3);
  ws.close();
  await next(server, 'close');
});

test("bufferedAmount() grows while a peer does not read; 'drain' once it caught up", T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, send_high_water: 1 << 20, send_low_water: 65536, max_queue_bytes: 1 << 26 }));
  const opened = next(server, 'open');
  const ws = await wsOpen(`ws://127.0.0.1:${server.port}/feed`);
  const { conn } = await opened;
  ws.pause(); // reads stop: the server's queue for it grows
  const size = 64 * 1024;
  const count = 320; // 20 MiB: more than loopback socket buffers hold
  const payload = 'x'.repeat(size);
  for (let i = 0; i < count; i++) server.publish('feed', payload);
  const deadline = Date.now() + 10000;
  while (server.bufferedAmount(conn) <= 1 << 20) {
    assert.ok(Date.now() < deadline, 'the queue never grew');
    await new Promise((r) => setTimeout(r, 10));
  }
  const lag = server.channelStats('feed');
  assert.equal(lag.subscribers, 1);
  assert.ok(lag.maxQueuedBytes > 1 << 20);
  const drained = next(server, 'drain');
  let n = 0;
  const all = new Promise((resolve) => ws.on('message', () => ++n === count && resolve()));
  ws.resume();
  const ev = await drained;
  assert.equal(ev.conn, conn);
  assert.equal(ev.protocol, 'websocket');
  assert.ok(server.bufferedAmount(conn) <= 65536);
  await all;
  ws.close();
});

test('presence() lists the connections on a channel', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  const ids = [];
  server.on('open', (ev) => ev.channels[0] === 'room' && ids.push(ev.conn));
  const a = await wsOpen(`ws://127.0.0.1:${server.port}/room`);
  const b = await wsOpen(`ws://127.0.0.1:${server.port}/room`);
  const c = await wsOpen(`ws://127.0.0.1:${server.port}/hall`);
  while (ids.length < 2) await next(server, 'open');
  assert.deepEqual(server.presence('room').sort(), ids.sort());
  assert.equal(server.channelStats('room').subscribers, 2);
  assert.deepEqual(server.presence('nobody'), []);
  for (const ws of [a, b, c]) ws.close();
});

test("the presence option: 'join' and 'leave' events", T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, presence: true }));
  const joined = next(server, 'join');
  const ws = await wsOpen(`ws://127.0.0.1:${server.port}/room`);
  const j = await joined;
  assert.equal(j.channel, 'room');
  const left = next(server, 'leave');
  ws.close();
  const closed = next(server, 'close');
  const l = await left;
  assert.equal(l.conn, j.conn);
  assert.equal(l.channel, 'room');
  const c = await closed; // an access log's figures
  assert.equal(c.stats.messages_in, 0);
  assert.ok(c.stats.bytes_out > 0 && c.stats.duration_ms >= 0);
});

test("'join' and 'leave' carry the identity of the token", T, async (t) => {
  const jwt = require('jsonwebtoken');
  const secret = 'node-presence-secret-0123456789abcdef-0123456789abcdef-01234567';
  const keep = closer(t);
  const server = keep(new Server({ port: 0, presence: true, jwt_secret: secret }));
  const token = jwt.sign({ sub: 'carol', team: 'red', ssews: { subscribe: ['room'] } }, secret, {
    algorithm: 'HS256',
    expiresIn: 300,
  });
  const joined = next(server, 'join');
  const ws = await wsOpen(`ws://127.0.0.1:${server.port}/room?authorization=${token}`);
  const j = await joined;
  assert.equal(j.identity, 'carol');
  assert.equal(j.claims.team, 'red');
  const left = next(server, 'leave');
  ws.close();
  const l = await left;
  assert.equal(l.identity, 'carol');
});

test('setOption() changes a token while running; other keys throw', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, metrics_path: '/m', metrics_token: 'old' }));
  const get = async (token) =>
    (await fetch(`http://127.0.0.1:${server.port}/m`, { headers: { authorization: `Bearer ${token}` } })).status;
  assert.equal(await get('old'), 200);
  server.setOption('metrics_token', 'new');
  server.stats(); // answered after the change: it is in effect
  assert.equal(await get('old'), 401);
  assert.equal(await get('new'), 200);
  assert.throws(() => server.setOption('history', 5), { code: 'SSEWS_ENOTSUP' });
});
