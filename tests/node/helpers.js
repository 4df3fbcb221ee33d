'use strict';
// Shared helpers of the node:test suites (not a test file itself).
const { once } = require('node:events');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');

// Resolves with the next `type` event of `emitter` that passes `test`
// (rejects on an 'error' event, as events.once does, unless waiting for one).
function next(emitter, type, test = () => true) {
  return new Promise((resolve, reject) => {
    const onEvent = (ev) => {
      if (!test(ev)) return;
      cleanup();
      resolve(ev);
    };
    const onError = (err) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      emitter.off(type, onEvent);
      if (type !== 'error') emitter.off('error', onError);
    };
    emitter.on(type, onEvent);
    if (type !== 'error') emitter.on('error', onError);
  });
}

// Resolves with the next `type` event (errors do not reject: for tests that expect them).
function first(emitter, type) {
  return new Promise((resolve) => emitter.once(type, resolve));
}

// Resolves with the next `n` `type` events.
function collect(emitter, type, n) {
  return new Promise((resolve, reject) => {
    const got = [];
    const onEvent = (ev) => {
      got.push(ev);
      if (got.length === n) {
        cleanup();
        resolve(got);
      }
    };
    const onError = (err) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      emitter.off(type, onEvent);
      emitter.off('error', onError);
    };
    emitter.on(type, onEvent);
    emitter.on('error', onError);
  });
}

// Closes whatever is still open at the end of a test: clients first, so
// none of them sees its server go away and tries to reconnect.
function closer(t) {
  const all = [];
  t.after(async () => {
    const { Server } = require('ssews');
    await Promise.all(all.filter((ep) => !(ep instanceof Server)).map((ep) => ep.close()));
    await Promise.all(all.filter((ep) => ep instanceof Server).map((ep) => ep.close()));
  });
  return (ep) => {
    all.push(ep);
    return ep;
  };
}

// A self-signed certificate for 127.0.0.1 (openssl), in a directory of its
// own removed at exit: { cert, key } paths.
function tlsCert(prefix) {
  const fs = require('node:fs');
  const os = require('node:os');
  const { execFileSync } = require('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
  { stdio: 'ignore' });
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return { cert, key };
}

module.exports = { root, next, first, collect, closer, once, tlsCert };
