'use strict';
// A small chat room on one port: WebSocket clients talk, an SSE client
// listens, and a client without the token is turned away.
//
//   node examples/node/chat.js      (after `npm install` at the repository root)
const { Server, Client } = require('ssews');

async function main() {
  const server = new Server({ port: 0, history: 100 });
  const base = `127.0.0.1:${server.port}`;
  console.log(`server: listening on port ${server.port}`);

  server.on('open', (ev) => {
    // Accept, reject or subscribe here.
    if (ev.headers.authorization !== 'Bearer let-me-in') return server.reject(ev.conn, 403);
    server.subscribe(ev.conn, 'lobby');
  });
  server.on('message', (ev) => server.publish('lobby', `${ev.conn} says: ${ev.data}`, { event: 'chat' }));

  const auth = { headers: { Authorization: 'Bearer let-me-in' } };
  const reader = new Client(`http://${base}/lobby`, auth); // SSE
  const alice = new Client(`ws://${base}/lobby`, auth); // WebSocket
  const intruder = new Client(`ws://${base}/lobby`, { reconnect: false });

  intruder.on('close', (ev) => console.log(`intruder: turned away (${ev.code} ${ev.reason})`));
  alice.on('open', () => {
    alice.send('hello, room');
    alice.send('anyone here?');
  });

  let heard = 0;
  for await (const ev of reader) {
    if (ev.type !== 'message') continue;
    console.log(`reader: [${ev.event}] ${ev.data}`);
    if (++heard === 2) break;
  }

  await Promise.all([reader.close(), alice.close(), intruder.close()]);
  await server.close();
  console.log('done');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
