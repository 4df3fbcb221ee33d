'use strict';
// The example in examples/node/ runs and exits by itself.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { root } = require('./helpers');

test('examples/node/chat.js runs to the end and exits by itself', { timeout: 30000 }, async () => {
  const { code, signal, stdout, stderr } = await new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'examples', 'node', 'chat.js')],
      { cwd: root, timeout: 25000, killSignal: 'SIGKILL' },
      (err, out, errOut) => resolve({ code: err ? err.code : 0, signal: err ? err.signal : null, stdout: out, stderr: errOut }),
    );
  });
  assert.equal(signal, null, `killed: it did not exit by itself\n${stdout}${stderr}`);
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split('\n');
  assert.match(lines[0], /^server: listening on port \d+$/);
  assert.ok(lines.some((l) => /^intruder: turned away \(.*1008.*\)$/.test(l)), stdout);
  const heard = lines.filter((l) => l.startsWith('reader: '));
  assert.equal(heard.length, 2, stdout);
  assert.match(heard[0], /^reader: \[chat\] \d+ says: hello, room$/);
  assert.match(heard[1], /^reader: \[chat\] \d+ says: anyone here\?$/);
  assert.equal(lines.at(-1), 'done');
});
