// SSE over HTTP/2 in a real browser: headless Debian chromium (playwright-core) opens a page
// over https from `ssews serve --tls-cert --tls-key` (a self-signed certificate made here with
// openssl; chromium runs with --ignore-certificate-errors) and 10 EventSources to the same
// origin. Over HTTP/1.1 a browser holds at most six connections per origin, so the last four
// would never open; over h2 all ten share one connection and all receive.
// WebSockets over wss to the same server (docs/design-own-tls.md): chromium opens a connection
// of its own offering only http/1.1 in ALPN, ssews does the TLS and frames the WebSocket itself
// (compression is negotiated: lws' path has none). From the https page itself too: ssews turns
// off RFC 8441 in the HTTP/2 settings (libwebsockets 4.1.6 advertises it), so chromium does not
// carry the WebSocket on the page's HTTP/2 connection.
// Run: node --test tests/browser/ (scripts/test-browser.sh).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const TOKEN = 'h2-test-token';
const WAIT = 15000;
const STREAMS = 10;
// A file of many HTTP/2 frames (16 KiB each at most).
const BIG = Buffer.from(Array.from({ length: 300000 }, (_, i) => (i * 7919) % 251));

function findBin() {
  if (process.env.SSEWS_BIN) return path.resolve(process.env.SSEWS_BIN);
  for (const dir of ['build-release', 'build-asan', 'build', 'build-demo']) {
    const p = path.join(root, dir, 'tools/ssews');
    if (existsSync(p)) return p;
  }
  throw new Error('no ssews binary: set SSEWS_BIN or build one (bash scripts/build.sh build-release)');
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'ssews-browser-h2-'));
let hub;
let port;
let browser;

// The page: ten EventSources, each reporting what it receives into the DOM.
const PAGE = `<!doctype html><meta charset="utf-8"><title>h2</title><body><script>
  window.got = Array.from({ length: ${STREAMS} }, () => []);
  window.opened = 0;
  for (let i = 0; i < ${STREAMS}; i++) {
    const es = new EventSource('/events?channel=all&channel=s' + i);
    es.onopen = () => { window.opened++; };
    es.onmessage = (e) => { window.got[i].push(e.data); };
  }
</script></body>`;

before(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const www = path.join(dir, 'www');
  execFileSync('mkdir', ['-p', www]);
  writeFileSync(path.join(www, 'index.html'), PAGE);
  writeFileSync(path.join(www, 'big.bin'), BIG);
  hub = spawn(findBin(), ['serve', '--port', '0', '--static', www, '--publish-token', TOKEN, '--echo',
    '--option', 'subprotocols=chat', '--option', 'compression=on',
    '--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem')],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  hub.stderr.on('data', (d) => { log += d; });
  port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ssews serve did not start:\n${log}`)), 20000);
    hub.stdout.on('data', (d) => {
      log += d;
      const m = /serving on https:\/\/127\.0\.0\.1:(\d+)\//.exec(log);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    hub.once('exit', (code) => { clearTimeout(timer); reject(new Error(`ssews serve exited (${code}):\n${log}`)); });
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--ignore-certificate-errors'] });
});

after(async () => {
  if (browser) await browser.close();
  if (hub && hub.exitCode === null) {
    const exited = new Promise((r) => hub.once('exit', r));
    hub.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function publish(channel, data) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method: 'POST', rejectUnauthorized: false,
      path: `/publish?channel=${encodeURIComponent(channel)}`,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Length': Buffer.byteLength(data) } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(body))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

test(`${STREAMS} EventSources to one origin over https all receive (HTTP/2)`, { timeout: 60000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`https://127.0.0.1:${port}/`);
  assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol), 'h2');
  await page.waitForFunction((n) => window.opened === n, STREAMS, { timeout: WAIT });
  const first = await publish('all', 'to every stream');
  assert.equal(first.subscribers, STREAMS);
  for (let i = 0; i < STREAMS; i++) await publish(`s${i}`, `only ${i}`);
  await page.waitForFunction((n) => window.got.every((g) => g.length === 2), STREAMS, { timeout: WAIT });
  const got = await page.evaluate(() => window.got);
  got.forEach((g, i) => assert.deepEqual(g, ['to every stream', `only ${i}`]));
  // Every stream on the one connection: the resource entries say h2 too.
  const protos = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/events')).map((e) => e.nextHopProtocol));
  assert.ok(protos.every((p) => p === 'h2'), JSON.stringify(protos));
  await page.close();
});

// Opens a WebSocket with subprotocol "chat" from the page, sends one message, and reports what
// came back with the negotiated subprotocol and extensions.
function wssEcho(page, p) {
  return page.evaluate((port) => new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/chat`, ['chat']);
    ws.onopen = () => ws.send('hello over wss');
    ws.onmessage = (e) => {
      resolve({ protocol: ws.protocol, compressed: ws.extensions.includes('permessage-deflate'), data: e.data });
      ws.close();
    };
    ws.onerror = () => reject(new Error('the WebSocket failed'));
  }), p);
}

test('a wss WebSocket from the https (HTTP/2) page is ssews\' own TLS: subprotocol "chat", compression, echo',
  { timeout: 60000 }, async () => {
    const page = await browser.newPage();
    await page.goto(`https://127.0.0.1:${port}/`);
    assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol), 'h2');
    assert.deepEqual(await wssEcho(page, port), { protocol: 'chat', compressed: true, data: 'hello over wss' });
    await page.close();
  });

test('a static file larger than one HTTP/2 frame arrives whole over h2', { timeout: 60000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`https://127.0.0.1:${port}/`);
  const got = await page.evaluate(async () => {
    const r = await fetch('/big.bin');
    const b = new Uint8Array(await r.arrayBuffer());
    let sum = 0;
    for (const x of b) sum = (sum + x) % 65521;
    return { status: r.status, length: b.length, sum };
  });
  const proto = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => e.name.endsWith('/big.bin')).map((e) => e.nextHopProtocol)[0]);
  let sum = 0;
  for (const x of BIG) sum = (sum + x) % 65521;
  assert.deepEqual(got, { status: 200, length: BIG.length, sum });
  assert.equal(proto, 'h2');
  await page.close();
});
