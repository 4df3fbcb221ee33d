'use strict';
// Scenario 7 of ssews' benchmark (bench/run): a publish loop from Node.
//
//   node bind_node.js --impl ssews|ws --port P --subs N --count M [--batch B] [--root DIR]
//
// Serves WebSocket subscribers on ?channel=bench; once N are connected, publishes M stamped
// messages ("M <seq> <CLOCK_MONOTONIC ns> xxx…", 100 bytes, the load generator's format) in a
// loop, letting the event loop run every B calls. Prints READY <port> when listening and one JSON
// line after the loop, then serves on until SIGTERM. --impl ssews uses the ssews binding (require(ROOT)); --impl ws loops over
// ws' clients, as ws' README broadcasts.
const path = require('path');
const args = process.argv.slice(2);
const opt = (n, d) => (args.indexOf(n) >= 0 ? args[args.indexOf(n) + 1] : d);
const impl = opt('--impl');
const port = Number(opt('--port'));
const subs = Number(opt('--subs'));
const count = Number(opt('--count'));
const batch = Number(opt('--batch', '10'));
const linger = Number(opt('--linger', '60'));
const root = opt('--root', path.join(__dirname, '..', '..'));

const payload = (seq) => {
  const s = `M ${seq} ${process.hrtime.bigint()} `; // libuv's hrtime is CLOCK_MONOTONIC
  return s + 'x'.repeat(Math.max(0, 100 - s.length));
};
const tick = () => new Promise((r) => setImmediate(r));

async function loop(publish) {
  let calls = 0n;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const c0 = process.hrtime.bigint();
    publish(payload(i));
    calls += process.hrtime.bigint() - c0;
    if (i % batch === batch - 1) await tick();
  }
  return { call_us: Number(calls) / 1e3 / count, loop_s: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function main() {
  let r;
  if (impl === 'ssews') {
    const ssews = require(root);
    const server = new ssews.Server({ host: '127.0.0.1', port, max_connections: 19000 });
    console.log(`READY ${server.port}`);
    let opened = 0;
    await new Promise((resolve) => server.on('open', () => { if (++opened >= subs) resolve(); }));
    await new Promise((res) => setTimeout(res, 200));
    r = await loop((p) => server.publish('bench', p));
    console.log(JSON.stringify({ impl, calls: count, ...r }));
    await new Promise((res) => setTimeout(res, linger * 1000));
    await server.close();
  } else {
    const { WebSocketServer } = require(path.join(__dirname, 'node_modules', 'ws'));
    const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
    await new Promise((res) => wss.on('listening', res));
    console.log(`READY ${port}`);
    await new Promise((resolve) => wss.on('connection', (ws) => { ws.on('error', () => {}); if (wss.clients.size >= subs) resolve(); }));
    await new Promise((res) => setTimeout(res, 200));
    r = await loop((p) => { for (const c of wss.clients) c.send(p); });
    console.log(JSON.stringify({ impl, calls: count, ...r }));
    await new Promise((res) => setTimeout(res, linger * 1000));
    for (const c of wss.clients) c.terminate();
    wss.close();
  }
  process.exit(0);
}
process.on('SIGTERM', () => process.exit(0));
main().catch((e) => { console.error(e && e.stack ? e.stack : e); process.exit(1); });
