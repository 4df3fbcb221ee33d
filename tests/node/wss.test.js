'use strict';
// A TLS Server and a default `ws` client over wss:// (which offers no ALPN):
// the subprotocol the server's `subprotocols` option names reaches the
// client, and messages go both ways (docs/design-own-tls.md: such clients
// get ssews' own WebSocket over its own TLS; libwebsockets' TLS path
// answered only ssews/ssews.v1 and refused 'chat' with a 400). The Node
// binding's events come after the handshake, so the option decides here.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { once } = require('node:events');
const { WebSocket } = require('ws');
const { Server } = require('ssews');
const { next, closer, tlsCert } = require('./helpers');

const T = { timeout: 15000 };

// A self-signed certificate for 127.0.0.1, made with openssl.
const { cert, key } = tlsCert('ssews-wss-');

// The next message of a ws socket as [data, isBinary].
function nextMessage(ws) {
  return new Promise((resolve) => {
    ws.once('message', (data, isBinary) => resolve([isBinary ? data : data.toString(), isBinary]));
  });
}

test('a default ws client over wss offering chat gets chat and echoes', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, tls_cert: cert, tls_key: key, subprotocols: 'chat' }));
  server.on('message', (ev) => server.send(ev.conn, ev.data));
  const opened = next(server, 'open');
  const ws = new WebSocket(`wss://127.0.0.1:${server.port}/room`, ['chat'], { ca: fs.readFileSync(cert) });
  t.after(() => ws.terminate());
  await once(ws, 'open');
  assert.equal(ws.protocol, 'chat');
  assert.equal((await opened).subprotocol, 'chat');
  let got = nextMessage(ws);
  ws.send('hello over wss');
  assert.deepEqual(await got, ['hello over wss', false]);
  got = nextMessage(ws);
  ws.send(Buffer.from([0, 1, 255]));
  const [bin, isBinary] = await got;
  assert.equal(isBinary, true);
  assert.deepEqual([...bin], [0, 1, 255]);
  // Published messages reach the plain (not ssews.v1) peer as their bytes.
  got = nextMessage(ws);
  server.publish('room', 'to all', { event: 'ignored-by-plain-peers' });
  assert.deepEqual(await got, ['to all', false]);
  ws.close();
});

test('ws over wss with rejectUnauthorized false, offering chat, talks to the Server', T, async (t) => {
  const keep = closer(t);
  const server = keep(new Server({ port: 0, tls_cert: cert, tls_key: key, subprotocols: 'chat' }));
  server.on('message', (ev) => server.send(ev.conn, ev.data));
  const ws = new WebSocket(`wss://127.0.0.1:${server.port}/room`, ['chat'], { rejectUnauthorized: false });
  t.after(() => ws.terminate());
  await once(ws, 'open');
  assert.equal(ws.protocol, 'chat');
  const got = nextMessage(ws);
  ws.send('echo me');
  assert.deepEqual(await got, ['echo me', false]);
  ws.close();
});
