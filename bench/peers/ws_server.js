'use strict';
// Peer of ssews' benchmark (bench/run): Node's `ws` for WebSocket and Node's `http` for SSE, on
// one port, with the semantics of `ssews serve`.
//
//   node ws_server.js --port P [--host H] [--echo] [--deflate]
//
// --echo sends each WebSocket message back to its sender. Otherwise a WebSocket client, or an
// SSE client (GET with Accept: text/event-stream), joins the channel named by its `channel`
// query parameter, and each WebSocket message is sent to every member of the sender's channel
// (the sender too) by looping over the members, as ws' README does. Compression off unless
// --deflate: then ws' perMessageDeflate with its defaults (compressing per connection, messages
// of 1024 bytes and more), for the permessage-deflate scenario (s8_deflate) only.
const http = require('http');
const { WebSocketServer } = require('ws');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const echo = args.includes('--echo');
const deflate = args.includes('--deflate');
const host = opt('--host', '127.0.0.1');
const port = Number(opt('--port', '8080'));

const chans = new Map(); // name -> { ws: Set<WebSocket>, sse: Set<ServerResponse> }
const chan = (name) => {
  let c = chans.get(name);
  if (!c) chans.set(name, (c = { ws: new Set(), sse: new Set() }));
  return c;
};
const channelOf = (url) => new URL(url, 'http://x').searchParams.get('channel') || '';

function sseEncode(data) {
  const text = data.toString('utf8').replace(/\r\n?/g, '\n');
  return Buffer.from('data: ' + text.split('\n').join('\ndata: ') + '\n\n');
}

const server = http.createServer({ noDelay: true }, (req, res) => {
  if (!echo && (req.headers.accept || '').includes('text/event-stream')) {
    const c = chan(channelOf(req.url));
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.write(': ok\n\n');
    c.sse.add(res);
    req.on('close', () => c.sse.delete(res));
    return;
  }
  res.writeHead(404);
  res.end();
});
server.keepAliveTimeout = 30000;

const wss = new WebSocketServer({ server, perMessageDeflate: deflate, maxPayload: 16 * 1024 * 1024 });
wss.on('connection', (ws, req) => {
  ws.on('error', () => {});
  if (echo) {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    return;
  }
  const c = chan(channelOf(req.url));
  c.ws.add(ws);
  ws.on('close', () => c.ws.delete(ws));
  ws.on('message', (data, isBinary) => {
    for (const m of c.ws) if (m.readyState === 1) m.send(data, { binary: isBinary });
    if (c.sse.size && !isBinary) {
      const ev = sseEncode(data);
      for (const r of c.sse) r.write(ev);
    }
  });
});

server.maxConnections = 20000;
server.listen(port, host, () => console.log(`ws_server serving on http://${host}:${port}/`));
const stop = () => {
  for (const ws of wss.clients) ws.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
