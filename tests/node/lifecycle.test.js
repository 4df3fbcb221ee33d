'use strict';
// Handles and process lifetime, checked in child processes: open endpoints
// keep the process alive, closed (or unref'd) ones never do, nothing leaks
// when endpoints are opened and closed in a loop.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const { root } = require('./helpers');

// The package the tests import (the repository's own, or an installed one
// when tests/packages/check.sh runs this suite in a project of its own).
const ssewsPath = JSON.stringify(require.resolve('ssews'));

// Runs `code` in a fresh node with `ssews` and `once` in scope. Resolves with
// { code, signal, stdout, stderr }; a child that does not exit by itself
// within `timeout` is killed (signal SIGKILL) and the caller's assertion fails.
function run(code, timeout = 30000) {
  const prelude = `const ssews = require(${ssewsPath}); const { Server, Client } = ssews; const { once } = require('node:events');\n`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', prelude + code],
      { cwd: root, timeout, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, signal: err ? err.signal : null, stdout, stderr }),
    );
  });
}

// A port nothing listens on, found by the child itself.
const freePort = `await new Promise((resolve) => { const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); })`;

test('open/close in a loop: no leaked fds, threads or handles; the process exits by itself', { timeout: 120000 }, async () => {
  const r = await run(`
    const fs = require('node:fs');
    const count = (dir) => fs.readdirSync(dir).length;
    async function cycle(i) {
      const server = new Server({ port: 0 });
      const ws = new Client('ws://127.0.0.1:' + server.port + '/a', { reconnect: false });
      const sse = new Client('http://127.0.0.1:' + server.port + '/a', { reconnect: false });
      await Promise.all([once(ws, 'open'), once(sse, 'open')]);
      const got = Promise.all([once(ws, 'message'), once(sse, 'message')]);
      server.publish('a', 'x' + i);
      await got;
      if (i % 2) {
        await ws.close();
        await sse.close();
        await server.close();
      } else {
        await server.close(); // the clients see 1001 and stop (reconnect: false), or are closed here
        await Promise.all([ws.close(), sse.close()]);
      }
      if (!ws.closed || !sse.closed || !server.closed) throw new Error('not closed');
    }
    (async () => {
      await cycle(0); // warm up (OpenSSL, the thread pool, ...)
      const before = { fds: count('/proc/self/fd'), threads: count('/proc/self/task') };
      for (let i = 1; i <= 24; i++) await cycle(i);
      const after = { fds: count('/proc/self/fd'), threads: count('/proc/self/task') };
      console.log(JSON.stringify({ before, after }));
    })();
  `);
  assert.equal(r.signal, null, `the child did not exit by itself: ${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  const { before, after } = JSON.parse(r.stdout);
  assert.equal(after.fds, before.fds, 'file descriptors');
  assert.equal(after.threads, before.threads, 'threads');
});

test('an open endpoint keeps the process alive', async () => {
  // The unref'd timer can only fire while something else keeps the loop alive.
  const r = await run(`
    const server = new Server({ port: 0 });
    setTimeout(() => { console.log('alive'); server.close(); }, 50).unref();
  `);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'alive\n');
});

test('a connected client keeps the process alive; unref() lets it go', async () => {
  const r = await run(`
    (async () => {
      const server = new Server({ port: 0 }).unref();
      const client = new Client('ws://127.0.0.1:' + server.port + '/');
      await once(client, 'open');
      setTimeout(() => { console.log('alive'); client.unref(); }, 50).unref();
    })();
  `);
  assert.equal(r.signal, null, 'exited by itself after unref()');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'alive\n');
});

test('an unref()d or closed endpoint does not keep the process alive', async () => {
  const unrefd = await run(`
    new Server({ port: 0 }).unref();
    setTimeout(() => console.log('alive'), 50).unref();
  `);
  assert.equal(unrefd.signal, null);
  assert.equal(unrefd.code, 0, unrefd.stderr);
  assert.equal(unrefd.stdout, '');

  const closed = await run(`
    const server = new Server({ port: 0 });
    server.close().then(() => {
      console.log('closed');
      setTimeout(() => console.log('alive'), 50).unref();
    });
  `);
  assert.equal(closed.code, 0, closed.stderr);
  assert.equal(closed.stdout, 'closed\n');
});

test('a client that stops for good releases the process without close()', async () => {
  const r = await run(`
    (async () => {
      const port = ${freePort};
      const client = new Client('ws://127.0.0.1:' + port + '/', { reconnect: false });
      client.on('error', (err) => console.log(err.code));
      client.on('close', (ev) => console.log('close', ev.code));
    })();
  `);
  assert.equal(r.signal, null);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'SSEWS_ECONNECT\nclose 1006\n');
});

test("an 'error' event nobody listens to is an uncaught exception", async () => {
  const r = await run(`
    (async () => {
      const port = ${freePort};
      new Client('ws://127.0.0.1:' + port + '/', { reconnect: false });
    })();
  `);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /SSEWS_ECONNECT/);
  assert.match(r.stderr, /cannot connect/);
});

test('a listener that throws is an uncaught exception', async () => {
  const r = await run(`
    process.on('uncaughtException', (err) => { console.log('caught', err.message); process.exit(3); });
    const server = new Server({ port: 0 });
    server.on('open', () => { throw new Error('boom in open'); });
    const client = new Client('ws://127.0.0.1:' + server.port + '/');
  `);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, 'caught boom in open\n');
});

test('process.exit() and worker threads ending with endpoints open are clean', async () => {
  const exited = await run(`
    (async () => {
      const server = new Server({ port: 0 });
      const client = new Client('ws://127.0.0.1:' + server.port + '/');
      await once(client, 'open');
      process.exit(0); // the endpoints are closed by the addon's cleanup hook
    })();
  `);
  assert.equal(exited.code, 0, exited.stderr);
  assert.equal(exited.stderr, '');

  const worker = await run(`
    const { Worker } = require('node:worker_threads');
    const code = 'const { Server, Client } = require(' + JSON.stringify(${ssewsPath}) + ');' +
      'const { once } = require("node:events");' +
      '(async () => { const s = new Server({ port: 0 }); const c = new Client("ws://127.0.0.1:" + s.port + "/");' +
      'await once(c, "open"); require("node:worker_threads").parentPort.postMessage(s.port);' +
      'if (require("node:worker_threads").workerData.exit) process.exit(0); })();';
    for (let i = 0; i < 4; i++) {
      // Half end themselves with process.exit(), half are terminated from here.
      const w = new Worker(code, { eval: true, workerData: { exit: i % 2 === 0 } });
      w.on('message', (port) => {
        console.log('worker listened on a port', port > 0);
        if (i % 2) w.terminate();
      });
      w.on('error', (err) => { console.error(err); process.exitCode = 1; });
    }
  `);
  assert.equal(worker.signal, null, 'exited by itself');
  assert.equal(worker.code, 0, worker.stderr);
  assert.equal(worker.stdout, 'worker listened on a port true\n'.repeat(4));
});
