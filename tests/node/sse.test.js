'use strict';
// Server <-> Client over Server-Sent Events, both ends ssews, on loopback.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Server, Client } = require('ssews');
const { next, collect, closer } = require('./helpers');

const T = { timeout: 20000 };

test('an SSE client gets what is published: event, id, multi-line data, binary as bytes', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  const serverOpen = next(server, 'open');
  const client = keep(new Client(`http://127.0.0.1:${server.port}/news`, { reconnect: false }));
  const opened = await next(client, 'open');
  assert.equal(opened.protocol, 'sse');
  const open = await serverOpen;
  assert.equal(open.protocol, 'sse');
  assert.equal(open.path, '/news');
  assert.deepEqual(open.channels, ['news']);
  assert.match(open.headers.accept, /text\/event-stream/);

  const got = collect(client, 'message', 4);
  server.publish('news', 'headline', { event: 'flash', id: 'n-1' });
  server.publish('news', 'line one\nline two\r\nline three');
  server.publish('news', Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  server.publish('elsewhere', 'not for us');
  server.send(open.conn, 'just for you', { event: 'direct', id: 'd-1' });
  const [m1, m2, m3, m4] = await got;
  assert.deepEqual([m1.data, m1.event, m1.id, m1.protocol], ['headline', 'flash', 'n-1', 'sse']);
  assert.equal(m2.data, 'line one\nline two\nline three');
  assert.match(m2.id, /^[0-9a-z]+-\d+$/);
  assert.equal(m2.event, 'message', 'the SSE default event type');
  // Sent as base64 under `event: binary`; the stream is from ssews (X-Ssews: v1), so bytes again.
  assert.deepEqual([m3.event, m3.binary, Buffer.isBuffer(m3.data)], ['binary', true, true]);
  assert.equal(m3.data.toString('hex'), 'deadbeef');
  assert.deepEqual([m4.data, m4.event, m4.id], ['just for you', 'direct', 'd-1']);
  for (const m of [m1, m2, m4]) assert.equal(typeof m.data, 'string');
});

test('SSE is text: a client cannot send, a server cannot send binary to it', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  const serverOpen = next(server, 'open');
  const client = keep(new Client(`http://127.0.0.1:${server.port}/s`, { reconnect: false }));
  await next(client, 'open');
  const { conn } = await serverOpen;
  assert.throws(() => client.send('up'), { code: 'SSEWS_ENOTSUP', errno: -9 });
  assert.throws(() => server.send(conn, Buffer.from('x')), (err) => {
    assert.equal(err.code, 'SSEWS_EINVAL');
    assert.match(err.message, /binary/);
    return true;
  });
  assert.throws(() => server.send(conn, 'x', { event: 'bad\nname' }), { code: 'SSEWS_EINVAL' });
});

test('the open handler may subscribe an SSE connection or reject it (the stream ends)', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  server.on('open', (ev) => {
    if (ev.query.includes('deny')) server.reject(ev.conn);
    else server.subscribe(ev.conn, 'extra');
  });
  const denied = keep(new Client(`http://127.0.0.1:${server.port}/a?deny=1`, { reconnect: false }));
  const end = await next(denied, 'close');
  assert.equal(typeof end.code, 'number');
  assert.equal(denied.closed, true);

  const client = keep(new Client(`http://127.0.0.1:${server.port}/a`, { reconnect: false }));
  await next(client, 'open');
  const got = collect(client, 'message', 2);
  server.publish('extra', 'from extra');
  server.publish('a', 'from a');
  assert.deepEqual((await got).map((m) => m.data), ['from extra', 'from a']);
});

test('resume: last_event_id gets what was published after it; an unknown id gets a gap notice', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, history: 50 }));
  for (let i = 1; i <= 5; i++) server.publish('feed', `m${i}`, { id: `id-${i}` });

  const resumed = keep(new Client(`http://127.0.0.1:${server.port}/feed`, { reconnect: false, last_event_id: 'id-3' }));
  const got = collect(resumed, 'message', 3);
  await next(resumed, 'open');
  server.publish('feed', 'm6', { id: 'id-6' });
  assert.deepEqual((await got).map((m) => [m.id, m.data]), [['id-4', 'm4'], ['id-5', 'm5'], ['id-6', 'm6']]);

  // An id the server does not know: an SSEWS_EGAP error event, then all history holds.
  const stale = keep(new Client(`http://127.0.0.1:${server.port}/feed`, { reconnect: false, last_event_id: 'gone-1' }));
  const seen = [];
  for await (const ev of stale) {
    if (ev.type === 'error') {
      assert.ok(ev instanceof Error);
      assert.match(ev.message, /gone-1/);
      seen.push(ev.code);
    } else if (ev.type === 'message') {
      seen.push(ev.data);
    }
    if (seen.length === 7) break;
  }
  assert.deepEqual(seen, ['SSEWS_EGAP', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
});

test('an SSE client resumes by itself with Last-Event-ID after the stream ends', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, history: 10 }));
  const firstOpen = next(server, 'open');
  const client = keep(new Client(`http://127.0.0.1:${server.port}/feed`, { reconnect_delay_ms: 50 }));
  await next(client, 'open');
  const first = await firstOpen;
  const m1 = next(client, 'message');
  server.publish('feed', 'one');
  assert.equal((await m1).data, 'one');

  server.once('close', () => server.publish('feed', 'two')); // while it is away
  const reconnecting = next(client, 'reconnecting');
  server.closeConnection(first.conn);
  await reconnecting;
  const [again] = await Promise.all([next(server, 'open'), next(client, 'open')]);
  assert.notEqual(again.conn, first.conn);
  const got = collect(client, 'message', 2);
  server.publish('feed', 'three');
  assert.deepEqual((await got).map((m) => m.data), ['two', 'three']);
});
