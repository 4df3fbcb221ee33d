'use strict';
// The SSE Client's POST streams (method, body, content_type) against a
// third-party server written with Node's own `http` module, which streams
// only for a POST, as streaming APIs do; and the reconnect rule for them.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { once } = require('node:events');
const { Client } = require('ssews');
const { next, collect, closer } = require('./helpers');

const T = { timeout: 20000 };

// Each POST gets one event echoing its method, headers and body, then the
// stream ends; a GET gets 405.
async function postOnlyServer(t) {
  const requests = [];
  const srv = http.createServer(async (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    let body = '';
    for await (const chunk of req) body += chunk;
    requests.push({ type: req.headers['content-type'], lastEventId: req.headers['last-event-id'], body });
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.end(`retry: 50\nid: p${requests.length}\ndata: ${JSON.stringify(JSON.parse(body))}\n\n`);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.after(() => srv.close());
  return { url: `http://127.0.0.1:${srv.address().port}/v1/chat`, requests };
}

test('a POST stream sends its JSON body and is not repeated when it ends', T, async (t) => {
  const keep = closer(t);
  const srv = await postOnlyServer(t);
  const body = JSON.stringify({ prompt: 'héllo', big: 'x'.repeat(100000) });
  const client = keep(new Client(srv.url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } }));
  const closed = next(client, 'close');
  const m = await next(client, 'message');
  assert.deepEqual(JSON.parse(m.data), JSON.parse(body));
  assert.equal(m.id, 'p1');
  const close = await closed;
  assert.match(close.reason, /reconnect_non_idempotent/);
  assert.deepEqual(srv.requests, [{ type: 'application/json', lastEventId: undefined, body }]);
});

test('with reconnect_non_idempotent a POST stream is sent again, resuming', T, async (t) => {
  const keep = closer(t);
  const srv = await postOnlyServer(t);
  const client = keep(
    new Client(srv.url, { method: 'POST', body: '{"n":1}', content_type: 'application/json', reconnect_non_idempotent: true }),
  );
  const [a, b] = await collect(client, 'message', 2);
  assert.deepEqual([a.id, b.id], ['p1', 'p2']);
  assert.deepEqual(srv.requests[1], { type: 'application/json', lastEventId: 'p1', body: '{"n":1}' });
});

test('a GET to a POST-only stream fails for good with the status', T, async (t) => {
  const keep = closer(t);
  const srv = await postOnlyServer(t);
  const client = keep(new Client(srv.url));
  const err = await next(client, 'error');
  assert.match(err.message, /405/);
});
