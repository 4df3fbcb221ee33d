'use strict';
// `for await (const ev of endpoint)`: every event in order, ending when the
// endpoint is closed.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Server, Client } = require('ssews');
const { next, closer } = require('./helpers');

const T = { timeout: 20000 };

test('for await over a server: open, message, close, then the loop ends with close()', T, async (t) => {
  const keep = closer(t);
  const server = new Server({ port: 0 });
  const client = keep(new Client(`ws://127.0.0.1:${server.port}/it`, { reconnect: false }));
  client.on('open', () => client.send('ping'));
  const seen = [];
  for await (const ev of server) {
    seen.push(ev.type);
    if (ev.type === 'message') {
      assert.equal(ev.data, 'ping');
      server.send(ev.conn, 'pong');
      server.close(); // the loop still gets the close event, then ends
    }
  }
  assert.deepEqual(seen, ['open', 'message', 'close']);
  assert.equal(server.closed, true);
  // A loop over a closed endpoint ends at once.
  for await (const ev of server) assert.fail(`unexpected ${ev.type}`);
});

test('for await over a client: ends when the client stops for good', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  server.on('open', (ev) => {
    server.send(ev.conn, 'one');
    server.send(ev.conn, Buffer.from('two'));
    server.closeConnection(ev.conn, 1000, 'done');
  });
  const client = new Client(`ws://127.0.0.1:${server.port}/`, { reconnect: false });
  const seen = [];
  for await (const ev of client) seen.push([ev.type, ev.data === undefined ? ev.code : String(ev.data)]);
  assert.deepEqual(seen, [['open', undefined], ['message', 'one'], ['message', 'two'], ['close', 1000]]);
  assert.equal(client.closed, true);
});

test('breaking out of a loop does not close the endpoint; emitters and loops see the same events', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0 }));
  const client = keep(new Client(`ws://127.0.0.1:${server.port}/b`, { reconnect: false }));
  const emitted = [];
  client.on('message', (m) => emitted.push(m));
  await next(client, 'open');
  const a = client[Symbol.asyncIterator]();
  const b = client[Symbol.asyncIterator]();
  server.publish('b', 'first');
  server.publish('b', 'second');
  const [a1, b1] = await Promise.all([a.next(), b.next()]);
  assert.equal(a1.value.data, 'first');
  assert.equal(a1.value, b1.value, 'the same event object');
  assert.equal(emitted[0], a1.value);
  await a.return(); // like `break`
  assert.deepEqual(await a.next(), { value: undefined, done: true });
  assert.equal((await b.next()).value.data, 'second');
  assert.equal(client.closed, false);
  const more = next(client, 'message');
  server.publish('b', 'third');
  assert.equal((await more).data, 'third');
  await b.return();
});

test("with a loop running, an 'error' event needs no listener", T, async () => {
  const client = new Client('ws://127.0.0.1:1/', { reconnect: false }); // nothing listens on port 1
  const types = [];
  for await (const ev of client) types.push(ev.type === 'error' ? ev.code : ev.type);
  assert.deepEqual(types, ['SSEWS_ECONNECT', 'close']);
});
