'use strict';
// Peer of ssews' benchmark (bench/run, scenario 8): one node of a Socket.IO cluster that shares
// rooms through Redis with @socket.io/redis-adapter, the way Socket.IO's docs scale out.
//
//   node sio_server.js --port P --redis redis://127.0.0.1:R [--host H]
//
// Hub semantics, as every peer of the benchmark: a client joins the room of its `channel` query
// parameter (/socket.io/?EIO=4&transport=websocket&channel=NAME), and each "msg" event a client
// emits is emitted to every member of that room on every node, the sender included. WebSocket
// transport only (no long-polling), compression off (Socket.IO's default).
const http = require('http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const host = opt('--host', '127.0.0.1');
const port = Number(opt('--port', '8080'));
const redisUrl = opt('--redis', 'redis://127.0.0.1:6379');

async function main() {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  pub.on('error', (e) => console.error('redis:', e.message));
  sub.on('error', (e) => console.error('redis:', e.message));
  await Promise.all([pub.connect(), sub.connect()]);

  const server = http.createServer({ noDelay: true });
  server.maxConnections = 20000;
  const io = new Server(server, { transports: ['websocket'], serveClient: false, adapter: createAdapter(pub, sub) });
  io.on('connection', (socket) => {
    const room = String(socket.handshake.query.channel || '');
    socket.join(room);
    socket.on('msg', (data) => io.to(room).emit('msg', data));
  });
  server.listen(port, host, () => console.log(`sio_server serving on http://${host}:${port}/ (redis ${redisUrl})`));
  const stop = () => {
    io.close();
    Promise.allSettled([pub.quit(), sub.quit()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
