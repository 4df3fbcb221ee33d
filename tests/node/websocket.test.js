'use strict';
// Server <-> Client over WebSocket, both ends ssews, on loopback.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Server, Client } = require('ssews');
const { next, collect, closer } = require('./helpers');

const T = { timeout: 20000 };

test('text stays text and binary stays binary, both ways', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  server.on('message', (ev) => server.send(ev.conn, ev.data)); // echo
  const client = keep(new Client(`ws://127.0.0.1:${server.port}/echo`, { reconnect: false }));
  const opened = await next(client, 'open');
  assert.equal(opened.conn, 1);
  assert.equal(opened.protocol, 'websocket');

  const bytes = Uint8Array.from([0, 1, 2, 253, 254, 255]);
  const replies = collect(client, 'message', 6);
  const received = collect(server, 'message', 6);
  client.send('hello');
  client.send('héllo wörld ✓ \u{1F600}');
  client.send(Buffer.from('buffer'));
  client.send(bytes);
  client.send(bytes.buffer); // an ArrayBuffer
  client.send('');

  for (const list of [await received, await replies]) {
    assert.deepEqual(
      list.map((m) => [typeof m.data === 'string' ? 'text' : 'binary', m.binary]),
      [['text', false], ['text', false], ['binary', true], ['binary', true], ['binary', true], ['text', false]],
    );
    assert.equal(list[0].data, 'hello');
    assert.equal(list[1].data, 'héllo wörld ✓ \u{1F600}');
    assert.ok(Buffer.isBuffer(list[2].data));
    assert.equal(list[2].data.toString(), 'buffer');
    assert.deepEqual([...list[3].data], [...bytes]);
    assert.deepEqual([...list[4].data], [...bytes]);
    assert.equal(list[5].data, '');
  }
  assert.equal((await received)[0].protocol, 'websocket');
});

test('publish reaches the subscribers of a channel with channel, event and id (ssews.v1)', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  const a = keep(new Client(`ws://127.0.0.1:${server.port}/prices`, { reconnect: false }));
  const b = keep(new Client(`ws://127.0.0.1:${server.port}/?channel=news&channel=prices`, { reconnect: false }));
  const other = keep(new Client(`ws://127.0.0.1:${server.port}/other`, { reconnect: false }));
  const opens = await collect(server, 'open', 3);
  assert.deepEqual(opens.map((o) => o.channels).sort(), [['news', 'prices'], ['other'], ['prices']]);

  const gotA = next(a, 'message');
  const gotB = collect(b, 'message', 2);
  let otherGot = 0;
  other.on('message', () => otherGot++);
  server.publish('prices', '{"px":101}', { event: 'tick', id: 'p-1' });
  server.publish('news', Buffer.from([7, 8, 9]));

  const m = await gotA;
  assert.equal(m.data, '{"px":101}');
  assert.equal(m.channel, 'prices');
  assert.equal(m.event, 'tick');
  assert.equal(m.id, 'p-1');
  const [m1, m2] = await gotB;
  assert.equal(m1.channel, 'prices');
  assert.equal(m2.channel, 'news');
  assert.equal(m2.binary, true);
  assert.deepEqual([...m2.data], [7, 8, 9]);
  assert.match(m2.id, /^[0-9a-z]+-\d+$/, 'an assigned <epoch>-<seq> id');
  // `other` is subscribed to neither channel: the direct message is the first it gets.
  server.send(opens.find((o) => o.path === '/other').conn, 'direct');
  assert.equal((await next(other, 'message')).data, 'direct');
  assert.equal(otherGot, 1);
});

test('the open handler may subscribe a connection to more channels', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  server.on('open', (ev) => {
    if (ev.query.includes('vip=1')) server.subscribe(ev.conn, 'vip');
  });
  const vip = keep(new Client(`ws://127.0.0.1:${server.port}/lobby?vip=1`, { reconnect: false }));
  const plain = keep(new Client(`ws://127.0.0.1:${server.port}/lobby`, { reconnect: false }));
  await Promise.all([next(vip, 'open'), next(plain, 'open')]);
  let plainGot = [];
  plain.on('message', (m) => plainGot.push(m.data));
  const vipGot = collect(vip, 'message', 2);
  server.publish('vip', 'for vips');
  server.publish('lobby', 'for all');
  assert.deepEqual((await vipGot).map((m) => [m.channel, m.data]), [['vip', 'for vips'], ['lobby', 'for all']]);
  // Publishes are delivered in order, so plain has 'for all' once this arrives.
  const last = next(plain, 'message', (m) => m.data === 'end');
  server.publish('lobby', 'end');
  await last;
  assert.deepEqual(plainGot, ['for all', 'end']);
});

test('the open handler may reject a connection: WebSocket close 1008', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  server.on('open', (ev) => {
    if (ev.headers.authorization !== 'Bearer good') server.reject(ev.conn, 403);
  });
  const serverClosed = next(server, 'close');
  const bad = keep(new Client(`ws://127.0.0.1:${server.port}/x`, { reconnect: false }));
  const closed = await next(bad, 'close');
  // A client that does not reconnect reports the code the server closed with.
  assert.equal(closed.code, 1008);
  assert.equal((await serverClosed).code, 1008);
  assert.equal(bad.closed, true, 'a client that stopped for good is closed');

  const serverOpen = next(server, 'open');
  const good = keep(
    new Client(`ws://127.0.0.1:${server.port}/x`, { reconnect: false, headers: { Authorization: 'Bearer good' } }),
  );
  await next(good, 'open');
  assert.equal((await serverOpen).headers.authorization, 'Bearer good');
  assert.equal(good.closed, false);
});

test('closeConnection sends code and reason; client.close(code, reason) too', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  const serverOpen = next(server, 'open');
  const c1 = keep(new Client(`ws://127.0.0.1:${server.port}/a`, { reconnect: false }));
  await next(c1, 'open');
  const open1 = await serverOpen;
  const c1Closed = next(c1, 'close');
  server.closeConnection(open1.conn, 4001, 'go away');
  const ev = await c1Closed;
  assert.equal(ev.code, 4001);
  assert.equal(ev.reason, 'go away');
  await c1.close(); // already stopped for good: resolves
  assert.equal(c1.closed, true);

  const c2 = keep(new Client(`ws://127.0.0.1:${server.port}/b`));
  await next(c2, 'open');
  const serverSide = next(server, 'close', (e) => e.conn !== open1.conn);
  const c2Closed = next(c2, 'close');
  await c2.close(4002, 'bye now');
  assert.equal((await c2Closed).code, 4002);
  const s = await serverSide;
  assert.equal(s.code, 4002);
  assert.equal(s.reason, 'bye now');
});

test('server.close() closes every connection (1001) before it resolves; the client reconnects', T, async (t) => {
  const keep = closer(t);
  const server = new Server({ port: 0 });
  const port = server.port;
  const serverOpen = next(server, 'open');
  const client = keep(new Client(`ws://127.0.0.1:${port}/r`, { reconnect_delay_ms: 50 }));
  client.on('error', (err) => assert.equal(err.code, 'SSEWS_ECONNECT')); // while no server listens
  await next(client, 'open');
  await serverOpen;
  const closes = [];
  server.on('close', (ev) => closes.push(ev));
  const reconnecting = next(client, 'reconnecting');
  await server.close();
  assert.equal(closes.length, 1, 'the close event came before close() resolved');
  assert.equal(closes[0].code, 1001);
  const r = await reconnecting;
  assert.equal(r.attempt, 1);
  assert.equal(typeof r.delay, 'number');

  // A new server on the same port: the client comes back by itself.
  const reopened = next(client, 'open');
  const again = keep(new Server({ port }));
  await Promise.all([reopened, next(again, 'open')]);
});

test('messages a client sends while disconnected are flushed after it reconnects', T, async (t) => {
  const keep = closer(t);
  const server = new Server({ port: 0 });
  const port = server.port;
  const client = keep(new Client(`ws://127.0.0.1:${port}/q`, { reconnect_delay_ms: 50 }));
  client.on('error', (err) => assert.equal(err.code, 'SSEWS_ECONNECT')); // while no server listens
  await next(client, 'open');
  const reconnecting = next(client, 'reconnecting');
  await server.close();
  await reconnecting;
  client.send('queued 1');
  client.send(Buffer.from('queued 2'));
  const again = keep(new Server({ port }));
  const got = await collect(again, 'message', 2);
  assert.deepEqual(
    got.map((m) => [m.binary, String(m.data)]),
    [[false, 'queued 1'], [true, 'queued 2']],
  );
});

test('resume with last_event_id: after a drop the client gets what it missed, once', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, history: 10 }));
  const serverOpen = next(server, 'open');
  const client = keep(new Client(`ws://127.0.0.1:${server.port}/feed`, { reconnect_delay_ms: 50 }));
  await next(client, 'open');
  const first = await serverOpen;
  const m1 = next(client, 'message');
  server.publish('feed', 'one');
  assert.equal((await m1).data, 'one');

  // Drop the client (a close it retries), publish while it is away.
  server.once('close', () => {
    server.publish('feed', 'two');
    server.publish('feed', 'three');
  });
  const reconnecting = next(client, 'reconnecting');
  server.closeConnection(first.conn, 4000, 'restart');
  await reconnecting;
  const got = collect(client, 'message', 3);
  const [reopen] = await Promise.all([next(server, 'open'), next(client, 'open')]);
  assert.notEqual(reopen.conn, first.conn);
  server.publish('feed', 'four');
  assert.deepEqual((await got).map((m) => m.data), ['two', 'three', 'four']);
});

test('strings of every length around the binding\'s inline buffer arrive whole (publish and send)', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  const client = keep(new Client(`ws://127.0.0.1:${server.port}/edge`, { reconnect: false }));
  await next(client, 'open');
  // ASCII and multi-byte text whose UTF-8 ends just below, at and past 1024 bytes, and a long one.
  const texts = [];
  for (let n = 1010; n <= 1030; n++) texts.push('a'.repeat(n));
  for (let n = 1012; n <= 1026; n++) texts.push('b'.repeat(n - 4) + '\u{1F600}');
  for (let n = 1012; n <= 1026; n++) texts.push('c'.repeat(n - 3) + '€');
  texts.push('é'.repeat(40000));
  const longChannel = 'ch-' + 'x'.repeat(1017); // a 1020-byte channel name
  const onLong = keep(new Client(`ws://127.0.0.1:${server.port}/?channel=${longChannel}`, { reconnect: false }));
  await next(onLong, 'open');
  const got = collect(client, 'message', texts.length);
  const gotLong = next(onLong, 'message');
  for (const s of texts) server.publish('edge', s);
  server.publish(longChannel, texts[10]);
  assert.deepEqual((await got).map((m) => m.data), texts);
  assert.equal((await gotLong).data, texts[10]);

  const echoed = collect(server, 'message', texts.length);
  for (const s of texts) client.send(s);
  assert.deepEqual((await echoed).map((m) => m.data), texts);
});
