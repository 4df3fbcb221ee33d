// Real-browser tests of the demo page (examples/web) served by `ssews serve`: headless Debian
// chromium driven by playwright-core. Run: node --test tests/browser/ (scripts/test-browser.sh).
//
// The hub binary comes from SSEWS_BIN (else build-release, build-asan, build or build-demo's
// tools/ssews). Every wait is on a DOM condition or a process event, with a timeout; every
// process started here is stopped here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { findBin, root, stopAll, stopChild, track } from './processes.mjs';

const webDir = path.join(root, 'examples/web');
const publisherPy = path.join(root, 'examples/python/publisher.py');
const artifactDir = path.join(root, 'build-browser');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const TOKEN = 'browser-test-token';
const WAIT = 15000;          // one DOM condition
const RESTART_WAIT = 30000;  // reconnecting after a restart (EventSource retries every ~3 s)

const BIN = findBin();

class Hub {
  constructor() { this.port = 0; this.proc = null; this.log = ''; }

  get base() { return `http://127.0.0.1:${this.port}`; }

  // Starts `ssews serve` on this.port (0: a free one) and resolves once it prints its URL.
  async start() {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce();
      } catch (e) {
        // Only a restart on a fixed port can meet a port still held by the old socket.
        if (this.port === 0 || attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  startOnce() {
    const args = ['serve', '--port', String(this.port), '--static', webDir, '--history', '1000',
      '--publish-token', TOKEN];
    const proc = track(spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.proc = proc;
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`ssews serve did not start:\n${this.log}`)); }, 20000);
      proc.stderr.on('data', (d) => { this.log += d; });
      proc.stdout.on('data', (d) => {
        out += d;
        this.log += d;
        const m = /serving on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
        if (m) { clearTimeout(timer); this.port = Number(m[1]); resolve(); }
      });
      proc.exited.then((code) => { clearTimeout(timer); reject(new Error(`ssews serve exited (${code}) before serving:\n${this.log}`)); });
    });
  }

  async stop() {
    if (!this.proc) return null;
    const code = await stopChild(this.proc);
    this.proc = null;
    return code;
  }

  async publish(channel, event, data, id) {
    const q = new URLSearchParams({ channel });
    if (event) q.set('event', event);
    if (id) q.set('id', id);
    const body = typeof data === 'string' ? data : JSON.stringify(data);
    const res = await fetch(`${this.base}/publish?${q}`, {
      method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body,
    });
    const text = await res.text();
    assert.equal(res.status, 200, `publish answered ${res.status}: ${text}`);
    return JSON.parse(text);
  }
}

function runPublisher(hub, ...extra) {
  const proc = track(spawn('python3', [publisherPy, '--url', hub.base, '--token', TOKEN, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] }));
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  return { proc, log: () => log };
}

// ------------------------------------------------------------------ page helpers
const hub = new Hub();
let browser;
let alice;
let bob;
const pageErrors = [];

async function openRoom(name) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  await page.goto(`${hub.base}/?name=${encodeURIComponent(name)}`);
  await Promise.all([badge(page, 'ws-state', 'open'), badge(page, 'sse-state', 'open')]);
  return page;
}

const badge = (page, id, state, timeout = WAIT) =>
  page.locator(`[data-testid="${id}"][data-state="${state}"]`).waitFor({ timeout });

async function say(page, text) {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
}

// Waits until the page's chat shows `text` from `user`; returns how many such messages it shows.
async function seeChat(page, user, text, timeout = WAIT) {
  await page.waitForFunction(([u, t]) => [...document.querySelectorAll('[data-testid="chat-message"]')]
    .some((m) => m.dataset.user === u && m.querySelector('.msg-text').textContent === t), [user, text], { timeout });
  return page.evaluate(([u, t]) => [...document.querySelectorAll('[data-testid="chat-message"]')]
    .filter((m) => m.dataset.user === u && m.querySelector('.msg-text').textContent === t).length, [user, text]);
}

const noticeIds = (page) => page.$$eval('[data-testid="notice"]', (els) => els.map((e) => e.dataset.id));
const notice = (page, id) => page.locator(`[data-testid="notice"][data-id="${id}"]`);

// ------------------------------------------------------------------ set-up
before(async () => {
  await hub.start();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
  [alice, bob] = await Promise.all([openRoom('alice'), openRoom('bob')]);
});

after(async () => {
  await browser?.close();
  const code = await hub.stop();
  assert.ok(code === null || code === 0, `ssews serve did not exit cleanly on SIGTERM (${code}):\n${hub.log}`);
  await stopAll();
  assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
});

// ------------------------------------------------------------------ tests
test('the page serves and shows both connections open, each viewer with its name', async () => {
  assert.equal(await alice.title(), 'ssews live room');
  assert.equal(await alice.getByTestId('chat-name').textContent(), 'alice');
  assert.equal(await bob.getByTestId('chat-name').textContent(), 'bob');
});

test('two pages chat with each other over WebSocket', async () => {
  await say(alice, 'hi bob, can you hear me?');
  assert.equal(await seeChat(bob, 'alice', 'hi bob, can you hear me?'), 1);
  assert.equal(await seeChat(alice, 'alice', 'hi bob, can you hear me?'), 1, 'the sender sees its own message once');
  await say(bob, 'loud and clear <b>alice</b>');
  assert.equal(await seeChat(alice, 'bob', 'loud and clear <b>alice</b>'), 1);
  assert.equal(await alice.locator('.msg-text b').count(), 0, 'chat text is shown as text, not HTML');
  // Every chat item carries the id the hub gave it (subprotocol ssews.v1).
  const ids = await alice.$$eval('[data-testid="chat-message"]', (els) => els.map((e) => e.dataset.id));
  assert.equal(ids.length, 2);
  for (const id of ids) assert.match(id, /^[0-9a-z]+-\d+$/);
});

test('SSE notices and ticker events arrive with their event types and ids', async () => {
  const n1 = await hub.publish('notices', 'notice', { text: 'Stream starts in 5 minutes', level: 'info' }, 'n-1');
  assert.deepEqual(n1, { id: 'n-1', subscribers: 2 }, 'both pages subscribe to notices');
  const t1 = await hub.publish('ticker', 'ticker', { symbol: 'SSWS', price: 101.25, viewers: 2 }, 't-1');
  assert.deepEqual(t1, { id: 't-1', subscribers: 2 });
  // Another event type on the same channel is not a notice: the page ignores it.
  await hub.publish('notices', 'other', { text: 'not for the notice list' }, 'x-1');
  await hub.publish('notices', 'notice', { text: 'Guest speaker joining', level: 'success' }, 'n-2');

  for (const page of [alice, bob]) {
    await notice(page, 'n-2').waitFor({ timeout: WAIT });
    assert.deepEqual(await noticeIds(page), ['n-2', 'n-1'], 'newest first, no other event type');
    assert.equal(await notice(page, 'n-1').getAttribute('data-event'), 'notice');
    assert.equal(await notice(page, 'n-1').locator('.notice-text').textContent(), 'Stream starts in 5 minutes');
    assert.match(await notice(page, 'n-2').textContent(), /Guest speaker joining.*#n-2/);
    const ticker = page.getByTestId('ticker');
    await page.locator('[data-testid="ticker"][data-id="t-1"]').waitFor({ timeout: WAIT });
    assert.equal(await ticker.getAttribute('data-event'), 'ticker');
    assert.equal(await page.getByTestId('ticker-price').textContent(), '101.25');
    assert.equal(await page.getByTestId('ticker-viewers').textContent(), '2');
    assert.equal(await page.getByTestId('stream-viewers').textContent(), '2');
    assert.equal(await page.getByTestId('notice-count').textContent(), '2');
  }
});

test('the example publisher (examples/python/publisher.py) feeds the ticker and notices', async () => {
  const pub = runPublisher(hub, '--count', '3', '--interval', '0.2', '--verbose');
  const code = await pub.proc.exited;
  assert.equal(code, 0, `publisher failed:\n${pub.log()}`);
  assert.match(pub.log(), /stopped after 3 ticks \(4 publishes\)/);
  // Its ticks: the first knows no viewer count yet, the next ones have the hub's subscriber
  // count of the previous publish: our two pages.
  const ticks = [...pub.log().matchAll(/ticker (\d+\.\d\d) viewers (\d+) id (\S+) /g)];
  assert.equal(ticks.length, 3, pub.log());
  assert.deepEqual(ticks.map((m) => m[2]), ['0', '2', '2']);
  const [, price, , lastId] = ticks[2];
  for (const page of [alice, bob]) {
    await page.locator('[data-testid="notice"]', { hasText: 'Welcome to the room' }).waitFor({ timeout: WAIT });
    await page.locator(`[data-testid="ticker"][data-id="${lastId}"]`).waitFor({ timeout: WAIT });
    assert.match(lastId, /^[0-9a-z]+-\d+$/);
    assert.equal(await page.getByTestId('ticker-price').textContent(), price);
    assert.equal(await page.getByTestId('ticker-viewers').textContent(), '2');
    assert.match(await page.getByTestId('ticker-change').textContent(), /^[+−]\d+\.\d\d \(\d+\.\d\d %\)$/);
  }
});

test('when the browser gives up on its EventSource (HTTP 503), the page opens a new one that resumes', async () => {
  const page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(`carol: ${e.message}`));
  const sseUrls = [];
  let n = 0;
  await page.route((url) => url.searchParams.getAll('channel').includes('notices'), (route) => {
    sseUrls.push(route.request().url());
    n++;
    // 1st: a short stream with one event, then its end: EventSource reconnects by itself with
    // Last-Event-ID: fake-1. 2nd: a 503, which makes the browser give up for good (CLOSED).
    if (n === 1) {
      return route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
        body: 'id: fake-1\nevent: notice\ndata: {"text":"from a stream that ends"}\n\n' });
    }
    if (n === 2) return route.fulfill({ status: 503, body: 'busy' });
    return route.continue();
  });
  try {
    await page.goto(`${hub.base}/?name=carol`);
    await notice(page, 'fake-1').waitFor({ timeout: WAIT });
    await badge(page, 'sse-state', 'open', RESTART_WAIT);
    assert.equal(n, 3, sseUrls.join('\n'));
    assert.equal(new URL(sseUrls[2]).searchParams.get('lastEventId'), 'fake-1', 'the new EventSource resumes');
    // An id this server never gave: a gap notice, then all that its history holds.
    await page.getByTestId('gap').waitFor({ timeout: WAIT });
    await notice(page, 'n-1').waitFor({ timeout: WAIT });
    assert.deepEqual((await noticeIds(page)).slice(-3), ['n-2', 'n-1', 'fake-1']);
  } finally {
    await page.close();
  }
});

test('after a server restart the pages reconnect, get what was published meanwhile, and chat again', async () => {
  const before = await noticeIds(alice);
  const stoppedAt = Date.now();
  assert.equal(await hub.stop(), 0, `ssews serve did not exit cleanly on SIGTERM:\n${hub.log}`);
  for (const page of [alice, bob]) {
    await badge(page, 'ws-state', 'reconnecting');
    await badge(page, 'sse-state', 'reconnecting');
  }

  await hub.start();  // the same port
  const missed = await hub.publish('notices', 'notice', { text: 'Published while you were away', level: 'warning' }, 'missed-1');
  assert.equal(missed.id, 'missed-1');
  // Chromium's EventSource waits 3 s before reconnecting: had the restart been that quick, this
  // notice went out before any page was back, and can only reach them from the history.
  if (Date.now() - stoppedAt < 2500) assert.equal(missed.subscribers, 0, 'published before the pages reconnected');
  await hub.publish('chat', null, { user: 'host', text: 'chat published during the restart' });

  for (const page of [alice, bob]) {
    await notice(page, 'missed-1').waitFor({ timeout: RESTART_WAIT });
    await badge(page, 'sse-state', 'open', RESTART_WAIT);
    await badge(page, 'ws-state', 'open', RESTART_WAIT);
    // The page resumed with its last id, from the old server's epoch: the new server says so
    // (ssews-gap) and replays its history: nothing old twice, nothing new missing.
    await page.getByTestId('gap').first().waitFor({ timeout: WAIT });
    assert.deepEqual(await noticeIds(page), ['missed-1', ...before]);
    assert.equal(await notice(page, 'missed-1').getAttribute('data-event'), 'notice');
    assert.equal(await seeChat(page, 'host', 'chat published during the restart', RESTART_WAIT), 1);
  }

  await say(bob, 'back after the restart');
  assert.equal(await seeChat(alice, 'bob', 'back after the restart'), 1);
  await say(alice, 'welcome back');
  assert.equal(await seeChat(bob, 'alice', 'welcome back'), 1);
});

test('a screenshot of the demo is saved to build-browser/demo.png', async () => {
  const pub = runPublisher(hub, '--count', '24', '--interval', '0.05');
  assert.equal(await pub.proc.exited, 0, `publisher failed:\n${pub.log()}`);
  await say(bob, 'that last move was wild');
  await seeChat(alice, 'bob', 'that last move was wild');
  await alice.waitForFunction(() => document.querySelectorAll('[data-testid="notice"]').length >= 8, null, { timeout: WAIT });
  mkdirSync(artifactDir, { recursive: true });
  const file = path.join(artifactDir, 'demo.png');
  await alice.screenshot({ path: file, animations: 'disabled' });
  assert.ok(statSync(file).size > 20000, 'the screenshot has content');
});
