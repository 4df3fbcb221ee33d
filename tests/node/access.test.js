'use strict';
// Access control from Node (issue 16): tokens made by `jsonwebtoken`, peers
// from `ws`: identity and claims in the open event, refusals before the
// upgrade, publishing rights, and a Client that takes a fresh token after
// its old one expired.
const test = require('node:test');
const assert = require('node:assert/strict');
const jwt = require('jsonwebtoken');
const { WebSocket } = require('ws');
const { Server, Client } = require('ssews');
const { next, collect, closer } = require('./helpers');

const T = { timeout: 20000 };
const SECRET = 'node-test-secret-0123456789abcdef-0123456789abcdef-0123456789ab'; // 64 bytes

function token({ sub = 'alice', expiresIn = 300, subscribe = ['room'], publish = [], ...claims } = {}) {
  return jwt.sign({ sub, ssews: { subscribe, publish }, ...claims }, SECRET, { algorithm: 'HS256', expiresIn });
}

// The HTTP answer to a WebSocket handshake that is refused.
function refusal(url, headers) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    ws.on('open', () => reject(new Error('the handshake was accepted')));
    ws.on('error', () => {});
  });
}

test('the open event carries identity and claims; the application can still refuse', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, jwt_secret: SECRET, anonymous_subscribe: 'lobby' }));
  const opens = collect(server, 'open', 3);
  server.on('open', (ev) => {
    if (ev.identity !== null && ev.claims.role !== 'admin') server.reject(ev.conn, 403);
  });
  const url = `ws://127.0.0.1:${server.port}`;
  const admin = new WebSocket(`${url}/room`, { headers: { Authorization: `Bearer ${token({ role: 'admin' })}` } });
  await new Promise((resolve) => admin.on('open', resolve));
  admin.close();
  // Node takes events on its own loop, after the handshake: a refusal then
  // closes the connection (1008).
  const guest = new WebSocket(`${url}/room`, { headers: { Authorization: `Bearer ${token({ role: 'guest' })}` } });
  const [code] = await new Promise((resolve) => guest.on('close', (c, r) => resolve([c, r.toString()])));
  assert.equal(code, 1008);
  const anon = new WebSocket(`${url}/lobby`);
  await new Promise((resolve) => anon.on('open', resolve));
  anon.close();
  const seen = await opens;
  assert.equal(seen[0].identity, 'alice');
  assert.equal(seen[0].claims.role, 'admin');
  assert.deepEqual(seen[0].claims.ssews, { subscribe: ['room'], publish: [] });
  assert.equal(seen[1].claims.role, 'guest');
  assert.equal(seen[2].identity, null);
  assert.deepEqual(seen[2].claims, {});
});

test('refusals name the reason: 401 with a Bearer challenge, 403 naming the channel', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, jwt_secret: SECRET }));
  let opened = 0;
  server.on('open', () => { opened++; });
  const url = `ws://127.0.0.1:${server.port}/room`;
  let r = await refusal(url, {});
  assert.equal(r.status, 401);
  assert.equal(r.headers['www-authenticate'], 'Bearer realm="ssews"');
  for (const [tok, words] of [
    [token({ expiresIn: -100 }), 'token expired'],
    [jwt.sign({ sub: 'x' }, SECRET + '!', { algorithm: 'HS256' }), 'signature does not verify'],
    [jwt.sign({ sub: 'x' }, null, { algorithm: 'none' }), 'alg none is not accepted'],
  ]) {
    r = await refusal(url, { Authorization: `Bearer ${tok}` });
    assert.equal(r.status, 401);
    assert.match(r.headers['www-authenticate'], /error="invalid_token"/);
    assert.ok(r.headers['www-authenticate'].includes(words), r.headers['www-authenticate']);
  }
  r = await refusal(`${url}?authorization=${token({ subscribe: ['other'] })}`, {});
  assert.equal(r.status, 403);
  assert.match(r.body, /channel 'room'/);
  assert.equal(opened, 0);
});

test('publishAs obeys the publish claim: 1008 naming the channel, nothing published', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, jwt_secret: SECRET }));
  const rights = [];
  server.on('message', (ev) => {
    rights.push([ev.data, server.mayPublish(ev.conn, 'room')]);
    try {
      server.publishAs(ev.conn, 'room', ev.data);
    } catch (err) {
      rights.push([err.code]);
    }
  });
  const url = `ws://127.0.0.1:${server.port}/room`;
  const reader = new WebSocket(url, { headers: { Authorization: `Bearer ${token({ sub: 'reader' })}` } });
  const writer = new WebSocket(url, { headers: { Authorization: `Bearer ${token({ sub: 'w', publish: ['room'] })}` } });
  await Promise.all([reader, writer].map((ws) => new Promise((resolve) => ws.on('open', resolve))));
  const closed = new Promise((resolve) => reader.on('close', (code, reason) => resolve([code, reason.toString()])));
  reader.send('from reader');
  assert.deepEqual(await closed, [1008, "not allowed to publish to channel 'room'"]);
  const got = new Promise((resolve) => writer.once('message', (data) => resolve(data.toString())));
  writer.send('from writer');
  assert.equal(await got, 'from writer'); // the first message it gets
  writer.close();
  assert.deepEqual(rights, [['from reader', false], ['SSEWS_EACCES'], ['from writer', true]]);
});

test('a Client takes a fresh token after its old one expired (setHeaders)', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, jwt_secret: SECRET, jwt_leeway: 0 }));
  const firstOpen = next(server, 'open');
  const client = keep(new Client(`ws://127.0.0.1:${server.port}/room`, {
    headers: { Authorization: `Bearer ${token({ sub: 'first', expiresIn: 2 })}` },
    reconnect_delay_ms: 200,
  }));
  client.on('reconnecting', () => client.setHeaders({ Authorization: `Bearer ${token({ sub: 'second' })}` }));
  const first = await firstOpen;
  assert.equal(first.identity, 'first');
  const closed = await next(server, 'close');
  assert.equal(closed.code, 1008);
  assert.equal(closed.reason, 'token expired');
  const second = await next(server, 'open');
  assert.equal(second.identity, 'second');
  assert.throws(() => client.setHeaders({ 'Bad Name': 'x' }), { code: 'SSEWS_EINVAL' });
});
