// Helpers of the wsgate.js tests: a wsgate binary built once per test
// file, nodes and delay proxies started as child processes on free
// ports, a recording WebSocket class, and waiting for conditions.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import WebSocket from 'ws';

const repo = resolve(import.meta.dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'wsgate-js-'));
/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();

after(() => {
  for (const p of children) p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

let bin = process.env.WSGATE_BIN || '';

/** The wsgate binary: $WSGATE_BIN, or ./cmd/wsgate built once into a temporary directory. */
export function wsgateBin() {
  if (!bin) {
    bin = join(tmp, 'wsgate');
    execFileSync('go', ['build', '-o', bin, './cmd/wsgate'], { cwd: repo, stdio: 'inherit' });
  }
  return bin;
}

/** A directory removed after the test file. */
export function tempDir() {
  return mkdtempSync(join(tmp, 'd-'));
}

/** A TCP port free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/** The environment without WSGATE_* variables, so a child sees only its flags. */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WSGATE_')));
}

/**
 * Starts a child process and keeps its output for failure messages.
 * @param {string} cmd
 * @param {string[]} args
 */
function start(cmd, args) {
  const p = spawn(cmd, args, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(p);
  let out = '';
  p.stdout.on('data', (b) => (out += b));
  p.stderr.on('data', (b) => (out += b));
  const exited = new Promise((r) => p.on('exit', (code, signal) => r({ code, signal })));
  exited.then(() => children.delete(p));
  return { p, exited, output: () => out };
}

/**
 * Starts `wsgate` on 127.0.0.1:port (a free one by default) with extra
 * flags, and waits until /healthz answers.
 * @param {{ port?: number, args?: string[] }} [o]
 */
export async function startNode(o = {}) {
  const port = o.port || (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const c = start(wsgateBin(), ['--listen', `127.0.0.1:${port}`, '--log-level', 'warn', '--shutdown-grace', '3s', ...(o.args || [])]);
  await waitFor(async () => {
    if (c.p.exitCode !== null) throw new Error(`wsgate exited: ${c.output()}`);
    try {
      return (await fetch(url + '/healthz')).ok;
    } catch {
      return false;
    }
  }, 15000, () => `wsgate on ${url} did not start: ${c.output()}`);
  return {
    port,
    url,
    output: c.output,
    /** Sends sig and waits for the process to exit. */
    stop: async (/** @type {NodeJS.Signals} */ sig = 'SIGKILL') => {
      if (c.p.exitCode === null && c.p.signalCode === null) c.p.kill(sig);
      return c.exited;
    },
  };
}

/**
 * Starts `wsgate delayproxy` from port (a free one by default) to `to`,
 * delayMs each way.
 * @param {number} to
 * @param {number} delayMs
 * @param {number} [port]
 */
export async function startProxy(to, delayMs, port) {
  port = port || (await freePort());
  const c = start(wsgateBin(), ['delayproxy', '--listen', `127.0.0.1:${port}`, '--to', `127.0.0.1:${to}`, '--delay', `${delayMs}ms`]);
  await waitFor(() => c.output().includes('wsgate delayproxy:'), 10000, () => `delayproxy did not start: ${c.output()}`);
  return { port, url: `http://127.0.0.1:${port}`, stop: () => c.p.kill('SIGKILL') };
}

/** The nats-server to run: $NATS_SERVER, or the one in $(go env GOPATH)/bin; '' when there is none. */
export function natsServerBin() {
  if (process.env.NATS_SERVER) return process.env.NATS_SERVER;
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim().split(':')[0];
    const p = join(gopath, 'bin', 'nats-server');
    return existsSync(p) ? p : '';
  } catch {
    return '';
  }
}

/** Starts nats-server with JetStream on a free port; resolves with its URL. */
export async function startNATS() {
  const port = await freePort();
  const c = start(natsServerBin(), ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', tempDir()]);
  await waitFor(() => c.output().includes('Server is ready'), 15000, () => `nats-server did not start: ${c.output()}`);
  return `nats://127.0.0.1:${port}`;
}

/**
 * Polls cond every 10 ms until it returns true; rejects after ms.
 * @param {() => boolean | Promise<boolean>} cond
 * @param {number} [ms]
 * @param {() => string} [what]
 */
export async function waitFor(cond, ms = 5000, what = () => 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A WebSocket class for the client (the ws package, permessage-deflate
 * offered) that records the sockets it opens, so a test can cut them.
 */
export function recordingWebSocket() {
  /** @type {WebSocket[]} */
  const sockets = [];
  class RecordingWebSocket extends WebSocket {
    /**
     * @param {string} url
     * @param {string | string[]} protocols
     */
    constructor(url, protocols) {
      super(url, protocols, { perMessageDeflate: true });
      sockets.push(this);
    }
  }
  return { WebSocket: /** @type {any} */ (RecordingWebSocket), sockets };
}

/** A localStorage stand-in. */
export function memoryStorage() {
  const m = new Map();
  return { getItem: (/** @type {string} */ k) => (m.has(k) ? m.get(k) : null), setItem: (/** @type {string} */ k, /** @type {string} */ v) => void m.set(k, v), map: m };
}
