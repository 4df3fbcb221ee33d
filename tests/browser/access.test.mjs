// Access control in a real browser (issue 16): headless Debian chromium driven by
// playwright-core. A page served from one origin (a second `ssews serve --static`) opens a
// cross-origin EventSource with credentials to a hub that checks tokens and origins (the
// token rides in a cookie, made by `jsonwebtoken`) and publishes with fetch (a real CORS
// preflight); the same page served from an origin the hub does not allow can neither open a
// WebSocket to it nor publish. Run: node --test tests/browser/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { chromium } from 'playwright-core';
import { findBin, stopAll, track } from './processes.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const WAIT = 15000;
const SECRET = 'browser-test-secret-0123456789abcdef-0123456789abcdef-012345678';
const BIN = findBin();

// Starts `ssews serve` with args on a free port; resolves with the port once it serves.
function serve(args) {
  const proc = track(spawn(BIN, ['serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ssews serve did not start:\n${log}`)), 20000);
    proc.stderr.on('data', (d) => { log += d; });
    proc.stdout.on('data', (d) => {
      log += d;
      const m = /serving on http:\/\/127\.0\.0\.1:(\d+)\//.exec(log);
      if (m) { clearTimeout(timer); resolve({ proc, port: Number(m[1]) }); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`ssews serve exited (${code}):\n${log}`)); });
  });
}

let tmp, browser, hub, site;
const token = (claims) => jwt.sign({ sub: 'browser', ...claims }, SECRET, { algorithm: 'HS256', expiresIn: 300 });

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ssews-access-'));
  writeFileSync(path.join(tmp, 'secret'), SECRET);
  mkdirWeb();
  site = await serve(['--static', path.join(tmp, 'web')]);
  // The hub allows pages from the site's origin only: 127.0.0.1 on the site's port
  // (localhost on that port is another origin).
  hub = await serve(['--jwt-secret-file', path.join(tmp, 'secret'),
    '--allowed-origin', `http://127.0.0.1:${site.port}`]);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
});

function mkdirWeb() {
  const web = path.join(tmp, 'web');
  mkdirSync(web, { recursive: true });
  writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>access test page</title><p>page</p>\n');
}

after(async () => {
  if (browser) await browser.close();
  await stopAll();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function publish(channel, data) {
  const res = await fetch(`http://127.0.0.1:${hub.port}/publish?channel=${channel}`, {
    method: 'POST', headers: { Authorization: `Bearer ${token({ ssews: { publish: [channel] } })}` }, body: data,
  });
  assert.equal(res.status, 200, await res.text());
}

test('a cross-origin EventSource with credentials reads a channel (token in a cookie, CORS answered)',
  { timeout: 60000 }, async () => {
    const context = await browser.newContext();
    await context.addCookies([{ name: 'ssewsAuthorization', value: token({ ssews: { subscribe: ['news'] } }),
      domain: '127.0.0.1', path: '/' }]);
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${site.port}/`);
    const opened = await page.evaluate((url) => new Promise((resolve) => {
      window.got = [];
      const es = new EventSource(url, { withCredentials: true });
      es.onmessage = (e) => window.got.push(e.data);
      es.onopen = () => resolve('open');
      es.onerror = () => resolve('error');
    }), `http://127.0.0.1:${hub.port}/news`);
    assert.equal(opened, 'open');
    await publish('news', 'hello, other origin');
    await page.waitForFunction(() => window.got.length > 0, null, { timeout: WAIT });
    assert.deepEqual(await page.evaluate(() => window.got), ['hello, other origin']);
    // The same page may not read a channel its token does not list: the stream fails.
    const denied = await page.evaluate((url) => new Promise((resolve) => {
      const es = new EventSource(url, { withCredentials: true });
      es.onopen = () => resolve('open');
      es.onerror = () => { es.close(); resolve('error'); };
    }), `http://127.0.0.1:${hub.port}/secret`);
    assert.equal(denied, 'error');
    await context.close();
  });

test('a WebSocket from an origin the hub does not allow never opens; from the allowed one it does',
  { timeout: 60000 }, async () => {
    const context = await browser.newContext();
    const t = token({ ssews: { subscribe: ['news'] } });
    const page = await context.newPage();
    const tryWs = (url) => page.evaluate((u) => new Promise((resolve) => {
      const ws = new WebSocket(u);
      ws.onopen = () => { ws.close(); resolve('open'); };
      ws.onclose = (e) => resolve(`closed ${e.code}`);
    }), url);
    const wsUrl = `ws://127.0.0.1:${hub.port}/news?authorization=${t}`;
    await page.goto(`http://localhost:${site.port}/`);  // another origin: same port, other host name
    assert.equal(await tryWs(wsUrl), 'closed 1006');   // refused (403) before the upgrade
    await page.goto(`http://127.0.0.1:${site.port}/`);
    assert.equal(await tryWs(wsUrl), 'open');
    await context.close();
  });

test('a page on the allowed origin publishes with fetch and a bearer token (a real CORS preflight)',
  { timeout: 60000 }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${site.port}/`);
    const post = (url, t) => page.evaluate(async ([u, tok]) => {
      try {
        // Authorization is no CORS-safelisted header: the browser sends an OPTIONS preflight first.
        const res = await fetch(u, { method: 'POST', headers: { Authorization: `Bearer ${tok}` }, body: 'from a page' });
        return `${res.status} ${await res.text()}`;
      } catch (e) {
        return `blocked: ${e.message}`;
      }
    }, [url, t]);
    const url = `http://127.0.0.1:${hub.port}/publish?channel=news`;
    assert.match(await post(url, token({ ssews: { publish: ['news'] } })), /^200 \{"id":/);
    // A refusal is readable by the page too (the CORS headers come with it).
    assert.match(await post(url, token({ ssews: { publish: ['other'] } })), /^403 .*publishing to channel 'news'/);
    // From an origin the hub does not allow, the preflight is refused: the browser blocks the request.
    await page.goto(`http://localhost:${site.port}/`);
    assert.match(await post(url, token({ ssews: { publish: ['news'] } })), /^blocked/);
    await context.close();
  });
