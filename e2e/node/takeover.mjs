// takeover.mjs echoes a stream of similar JSON messages through /echo with
// permessage-deflate, for the server's context-takeover mode.
//
// Usage: node takeover.mjs takeover|stateless ws://127.0.0.1:PORT
//
// The first argument is what the server must answer: "takeover" (it keeps
// its compression context: no server_no_context_takeover in its response)
// or "stateless". Output follows interop.mjs: a {"peer","version"} line,
// then one {"case","ok","detail","ms"} line per case.

import { createRequire } from 'node:module';
import WebSocket from 'ws';

const require = createRequire(import.meta.url);
const PEER = 'node-ws';
const CASE_TIMEOUT_MS = 30000;

// jsonPayload returns the first n bytes of [{"i":0,"symbol":"ACME",… as the
// Go cases build it.
function jsonPayload(n) {
  const parts = ['['];
  let len = 1;
  for (let i = 0; len < n; i++) {
    const s = `{"i":${i},"symbol":"ACME","price":${100 + (i % 37)}},`;
    parts.push(s);
    len += s.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

// messages are ten identical 4 KB documents, then ten that differ only in
// their first bytes.
function messages() {
  const doc = jsonPayload(4096);
  const out = [];
  for (let i = 0; i < 10; i++) out.push(doc);
  for (let i = 0; i < 10; i++) out.push(Buffer.concat([Buffer.from(`{"seq":${i},"doc":`), jsonPayload(4056), Buffer.from('}')]));
  return out;
}

// open connects with compression on (ws compresses its own messages of
// 1024 bytes or more) and resolves with the socket, the response's
// Sec-WebSocket-Extensions and the TCP socket, whose bytesRead counts the
// wire.
function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: true });
    let header = '';
    let socket = null;
    ws.on('upgrade', (res) => {
      header = String(res.headers['sec-websocket-extensions'] ?? '');
      socket = res.socket;
    });
    ws.once('open', () => resolve({ ws, header, socket }));
    ws.once('error', reject);
  });
}

function nextMessage(ws) {
  return new Promise((resolve, reject) => {
    const onMessage = (data) => {
      ws.off('close', onClose);
      resolve(data);
    };
    const onClose = (code) => {
      ws.off('message', onMessage);
      reject(new Error(`closed with ${code}`));
    };
    ws.once('message', onMessage);
    ws.once('close', onClose);
  });
}

async function echoCase(base, expect) {
  const { ws, header, socket } = await open(`${base}/echo`);
  try {
    const takeover = header.includes('permessage-deflate') && !header.includes('server_no_context_takeover');
    if (takeover !== (expect === 'takeover')) {
      throw new Error(`server answered ${JSON.stringify(header)}, want ${expect}`);
    }
    const sizes = [];
    for (const msg of messages()) {
      const before = socket.bytesRead;
      const got = nextMessage(ws);
      ws.send(msg, { binary: false });
      const data = await got;
      if (!Buffer.from(data).equals(msg)) throw new Error(`echo of ${msg.length} bytes came back as ${data.length} different bytes`);
      sizes.push(socket.bytesRead - before);
    }
    return `answer ${JSON.stringify(header)}; bytes read per 4 KB echo: ${sizes.join(' ')}`;
  } finally {
    ws.terminate();
  }
}

async function main() {
  const [expect, base] = process.argv.slice(2);
  if (!base || !['takeover', 'stateless'].includes(expect)) {
    console.error('usage: node takeover.mjs takeover|stateless ws://HOST:PORT');
    process.exit(2);
  }
  const version = require('ws/package.json').version;
  console.log(JSON.stringify({ peer: PEER, version: `ws ${version}, node ${process.version}` }));
  const start = Date.now();
  let line;
  try {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
    });
    const detail = await Promise.race([echoCase(base.replace(/\/+$/, ''), expect), timeout]);
    clearTimeout(timer);
    line = { case: 'takeover/echo', ok: true, detail, ms: Date.now() - start };
  } catch (err) {
    line = { case: 'takeover/echo', ok: false, detail: String(err?.message ?? err), ms: Date.now() - start };
  }
  console.log(JSON.stringify(line));
  process.exit(line.ok ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
