// What the browser tests share (not a test file itself): the hub binary to run, and the
// processes they start, each stopped by the test or, at the latest, when node exits.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// SSEWS_BIN, else the first of build-release, build-asan, build, build-demo that has tools/ssews.
export function findBin() {
  if (process.env.SSEWS_BIN) return path.resolve(process.env.SSEWS_BIN);
  for (const dir of ['build-release', 'build-asan', 'build', 'build-demo']) {
    const p = path.join(root, dir, 'tools/ssews');
    if (existsSync(p)) return p;
  }
  throw new Error('no ssews binary: set SSEWS_BIN or build one (bash scripts/build.sh build-release)');
}

const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

// Tracks a child process; child.exited resolves with its exit code or signal.
export function track(child) {
  children.add(child);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve(code ?? signal);
  }));
  return child;
}

// SIGTERM, then SIGKILL after ms; resolves with how it ended.
export async function stopChild(child, ms = 10000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  child.kill('SIGTERM');
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => { child.kill('SIGKILL'); resolve('SIGKILL'); }, ms); });
  const r = await Promise.race([child.exited, late]);
  clearTimeout(timer);
  return r;
}

// Stops every tracked process still running.
export async function stopAll() {
  for (const c of [...children]) await stopChild(c);
}
