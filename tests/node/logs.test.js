'use strict';
// Logs and request events (issue 18) from Node: 'log' listeners get their own
// endpoint's lines (level, message) on the loop thread; request events
// (request_events option) tell of HTTP requests that did not become a stream.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Server } = require('ssews');
const { next, closer } = require('./helpers');

const T = { timeout: 30000 };

async function status(url, init) {
  const r = await fetch(url, init);
  await r.arrayBuffer();
  return r.status;
}

// Resolves with [level, message] of the next 'log' line holding `needle`.
function logLine(ep, needle) {
  return new Promise((resolve) => {
    const on = (level, message) => {
      if (!message.includes(needle)) return;
      ep.off('log', on);
      resolve([level, message]);
    };
    ep.on('log', on);
  });
}

test("'log' listeners get their own endpoint's lines, with the level", T, async (t) => {
  const keep = closer(t);
  const a = keep(new Server({ port: 0, log_level: 'info' }));
  const b = keep(new Server({ port: 0, log_level: 'info' }));
  const aLines = [];
  const bLines = [];
  a.on('log', (level, message) => aLines.push([level, message]));
  b.on('log', (level, message) => bLines.push([level, message]));
  // libwebsockets says "Method: 'GET' (0), request for '/path'" at info.
  const gotA = logLine(a, "request for '/only-for-a'");
  const gotB = logLine(b, "request for '/only-for-b'");
  assert.equal(await status(`http://127.0.0.1:${a.port}/only-for-a`), 404);
  assert.equal(await status(`http://127.0.0.1:${b.port}/only-for-b`), 404);
  assert.equal((await gotA)[0], 'info');
  assert.equal((await gotB)[0], 'info');
  assert.ok(!aLines.some(([, m]) => m.includes('only-for-b')));
  assert.ok(!bLines.some(([, m]) => m.includes('only-for-a')));
  for (const [level] of aLines) assert.ok(['error', 'warn', 'notice', 'info'].includes(level));
  // Without 'log' listeners the lines go back to stderr.
  b.removeAllListeners('log');
  const n = bLines.length;
  assert.equal(await status(`http://127.0.0.1:${b.port}/after`), 404);
  assert.equal(bLines.length, n);
});

test('a logging endpoint does not keep the process alive once unref()d', T, () => {
  // The log function is unref'd: an unref'd endpoint with a 'log' listener lets node exit.
  const script = `
    const { Server } = require(${JSON.stringify(require.resolve('ssews'))});
    const s = new Server({ port: 0, log_level: 'info' });
    s.on('log', () => {});
    s.unref();
    fetch('http://127.0.0.1:' + s.port + '/x').then((r) => r.arrayBuffer()).then(() => console.log('fetched'));
  `;
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 20000, encoding: 'utf8' });
  assert.equal(r.signal, null, 'node did not exit by itself');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /fetched/);
});

test("request events for a publish POST and a static file", T, async (t) => {
  const keep = closer(t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssews-req-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'a.txt'), 'hello\n');
  const s = keep(new Server({ port: 0, request_events: true, publish_token: 't', static_dir: dir }));
  let got = next(s, 'request');
  assert.equal(
    await status(`http://127.0.0.1:${s.port}/publish?channel=c&authorization=x`, {
      method: 'POST',
      body: 'hi',
      headers: { Authorization: 'Bearer t' },
    }),
    200,
  );
  let ev = await got;
  assert.equal(ev.type, 'request');
  assert.deepEqual([ev.method, ev.path, ev.query, ev.status], ['POST', '/publish', 'channel=c&authorization=x', 200]);
  assert.equal(ev.peer, '127.0.0.1');
  assert.equal(ev.conn, 0);
  assert.deepEqual(Object.keys(ev.stats).sort(), ['bytes_in', 'bytes_out', 'duration_ms']);
  got = next(s, 'request');
  assert.equal(await status(`http://127.0.0.1:${s.port}/a.txt`), 200);
  ev = await got;
  assert.deepEqual([ev.method, ev.path, ev.status], ['GET', '/a.txt', 200]);
  assert.ok(ev.stats.bytes_out >= 6);
  got = next(s, 'request');
  assert.equal(await status(`http://127.0.0.1:${s.port}/missing`), 404);
  assert.equal((await got).status, 404);
});
