// `import` works as well as `require`, and both give the same objects.
import test from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import ssews, { Server, Client, version, codes } from 'ssews';

const require = createRequire(import.meta.url);

test('named and default imports match require()', () => {
  const cjs = require('ssews');
  assert.equal(Server, cjs.Server);
  assert.equal(Client, cjs.Client);
  assert.equal(ssews.Server, Server);
  assert.match(version, /^\d+\.\d+\.\d+$/);
  assert.equal(codes.SSEWS_EOPTION, -2);
});

test('an ES module round trip', { timeout: 20000 }, async () => {
  const server = new Server({ port: 0 });
  server.on('message', (ev) => server.send(ev.conn, ev.data.toUpperCase()));
  const client = new Client(`ws://127.0.0.1:${server.port}/`, { reconnect: false });
  await once(client, 'open');
  client.send('esm');
  const [reply] = await once(client, 'message');
  assert.equal(reply.data, 'ESM');
  await client.close();
  await server.close();
});
