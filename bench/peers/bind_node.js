'use strict';
// Scenario 7 of ssews' benchmark (bench/run): a publish loop from Node.
//
//   node bind_node.js --impl ssews|ws --port P --subs N --count M [--batch B] [--root DIR]
//                     [--cpu-clock thread_cpu.node]
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

// CPU time of this (the JS) thread in ns: Node 20 has no per-thread CPU clock, so a one-function
// addon (peers/thread_cpu.c, built by bench.py) reads CLOCK_THREAD_CPUTIME_ID.
const { threadCpuNs } = require(opt('--cpu-clock', path.join(__dirname, '..', 'build', 'thread_cpu.node')));
// What reading that clock twice costs: taken off each batch.
const clockOverhead = () => {
  let best = null;
  for (let i = 0; i < 2000; i++) {
    const a = threadCpuNs();
    const d = threadCpuNs() - a;
    if (best === null || d < best) best = d;
  }
  return best;
};

// Publishes `count` stamped messages, yielding every `batch` calls. call_us is what one call costs
// its caller: CPU time of this thread inside the calls (a batch's payloads are made before it),
// clock overhead taken off. call_wall_us is wall time per call, which also counts whatever else
// ran on this core meanwhile (on a 2-core box: the server's own work).
async function loop(publish) {
  const over = clockOverhead();
  let cpu = 0n, wall = 0n;
  const t0 = process.hrtime.bigint();
  for (let start = 0; start < count; start += batch) {
    const msgs = [];
    for (let i = start; i < Math.min(count, start + batch); i++) msgs.push(payload(i));
    const w0 = process.hrtime.bigint();
    const c0 = threadCpuNs();
    for (const m of msgs) publish(m);
    const c1 = threadCpuNs();
    wall += process.hrtime.bigint() - w0;
    const d = c1 - c0 - over;
    if (d > 0n) cpu += d;
    await tick();
  }
  return { call_us: Number(cpu) / 1e3 / count, call_wall_us: Number(wall) / 1e3 / count,
           loop_s: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function main() {
  let r;
  if (impl === 'ssews') {
    const ssews = require(root);
    // The load comes from a few loopback addresses: no per-address limits.
    const server = new ssews.Server({ host: '127.0.0.1', port, max_connections: 19000, max_connections_per_ip: 0,
      handshake_rate_per_ip: 0 });
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
