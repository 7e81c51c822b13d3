// Large files through the real CLI: a sparse 1 GiB file is streamed with backpressure, so the
// server's memory (VmRSS from /proc) stays flat while a stalled client and a fast one download it,
// and a client that goes away mid-file makes the server close the file descriptor.
// (Sparse: the file costs no disk and reads of its holes come from the page cache as zeros, so
// the whole GiB crosses loopback in a few seconds here; the test is bounded at 60 s anyway.)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCli, type Running } from './helpers/cli.js';
import { makeTree } from './fixtures/static/harness.js';

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** Descriptors of process `pid` open on `file`. */
function openOn(pid: number, file: string): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === file) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(20);
  }
  return cond();
}

/** Opens a connection, sends `request`; resolves once `minBytes` of the response have arrived. */
function connectAndRead(port: number, request: string, minBytes: number): Promise<{ sock: net.Socket; got: () => number }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = 0;
    let done = false;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`only ${got} bytes in 10 s`)); }, 10_000);
    sock.on('data', (d: Buffer) => {
      got += d.length;
      if (!done && got >= minBytes) {
        done = true;
        clearTimeout(timer);
        resolve({ sock, got: () => got });
      }
    });
    sock.on('error', (e) => { if (!done) { clearTimeout(timer); reject(e); } });
    sock.write(request);
  });
}

const req = (target: string, extra = '') => `GET ${target} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

describe('large files', { timeout: 120_000 }, () => {
  const t = makeTree({ 'small.txt': 'small' });
  const big = path.join(t.root, 'big.bin');
  let srv: Running;
  let pid: number;
  let bigReal: string;

  before(async () => {
    const fd = fs.openSync(big, 'w');
    fs.ftruncateSync(fd, GiB); // sparse
    fs.writeSync(fd, Buffer.from('START'), 0, 5, 0);
    fs.writeSync(fd, Buffer.from('END'), 0, 3, GiB - 3);
    fs.closeSync(fd);
    fs.utimesSync(big, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
    bigReal = fs.realpathSync(big);
    srv = await startCli([t.root, '--workers', '1'], { timeoutMs: 15_000 });
    pid = srv.proc.pid!;
  });
  after(async () => {
    await srv?.stop();
    t.cleanup();
  });

  test('1 GiB: a fast client gets it all, a stalled one stalls, the server memory stays flat', { timeout: 60_000 }, async () => {
    // Warm up: code paths, a ranged read of the big file.
    for (let i = 0; i < 20; i++) await (await fetch(`${srv.url}/small.txt`)).text();
    const warm = await fetch(`${srv.url}/big.bin`, { headers: { range: 'bytes=0-8388607' } });
    assert.equal(warm.status, 206);
    assert.equal((await warm.arrayBuffer()).byteLength, 8 * MiB);
    await sleep(200);
    const baseline = rssBytes(pid);
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, rssBytes(pid)); }, 25);

    // The stalled reader: takes a sip every 250 ms, otherwise leaves the socket paused.
    const slow = await connectAndRead(srv.port, req('/big.bin'), 1);
    slow.sock.pause();
    const sipper = setInterval(() => {
      slow.sock.resume();
      setTimeout(() => slow.sock.pause(), 2);
    }, 250);

    // The fast reader: the whole GiB, checking the length and the last bytes.
    const started = Date.now();
    const fast = await new Promise<{ bytes: number; tail: string; head: string }>((resolve, reject) => {
      const sock = net.connect(srv.port, '127.0.0.1');
      let headerDone = false;
      let headText = '';
      let bytes = 0;
      let tail = Buffer.alloc(0);
      const timer = setTimeout(() => { sock.destroy(); reject(new Error(`fast reader: ${bytes} bytes after 45 s`)); }, 45_000);
      sock.on('data', (d: Buffer) => {
        if (!headerDone) {
          const all = Buffer.concat([Buffer.from(headText, 'latin1'), d]);
          const end = all.indexOf('\r\n\r\n');
          if (end < 0) { headText = all.toString('latin1'); return; }
          headerDone = true;
          headText = all.subarray(0, end).toString('latin1');
          d = all.subarray(end + 4);
        }
        bytes += d.length;
        tail = Buffer.concat([tail, d]).subarray(-3);
        if (bytes >= GiB) {
          clearTimeout(timer);
          sock.destroy();
          resolve({ bytes, tail: tail.toString(), head: headText });
        }
      });
      sock.on('error', reject);
      sock.write(req('/big.bin', 'Connection: close\r\n'));
    });
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sipper);
    clearInterval(sampler);
    peak = Math.max(peak, rssBytes(pid));

    assert.match(fast.head, /^HTTP\/1\.1 200/);
    assert.match(fast.head, /Content-Length: 1073741824/i);
    assert.equal(fast.bytes, GiB);
    assert.equal(fast.tail, 'END');
    const slowGot = slow.got();
    assert.ok(slowGot < GiB / 4, `the stalled client got ${slowGot} bytes`);
    const growth = peak - baseline;
    // Without backpressure the server would buffer hundreds of MiB for the stalled client.
    assert.ok(growth < 80 * MiB, `server RSS grew by ${(growth / MiB).toFixed(1)} MiB (baseline ${(baseline / MiB).toFixed(1)} MiB)`);
    slow.sock.destroy();
    assert.ok(await waitFor(() => openOn(pid, bigReal) === 0, 3000), 'file descriptors closed after both clients left');
    console.log(`# 1 GiB in ${seconds.toFixed(1)} s; server RSS ${(baseline / MiB).toFixed(1)} → peak ${(peak / MiB).toFixed(1)} MiB; stalled client got ${(slowGot / MiB).toFixed(1)} MiB`);
  });

  test('a client that disconnects mid-file: the descriptor is closed', { timeout: 20_000 }, async () => {
    assert.equal(openOn(pid, bigReal), 0);
    // After some bytes
    const a = await connectAndRead(srv.port, req('/big.bin'), 4 * MiB);
    assert.ok(openOn(pid, bigReal) >= 1, 'streaming holds a descriptor');
    a.sock.destroy();
    assert.ok(await waitFor(() => openOn(pid, bigReal) === 0, 3000), 'closed after a disconnect mid-body');
    // Stalled from the start (socket paused), then reset
    const b = await connectAndRead(srv.port, req('/big.bin'), 1);
    b.sock.pause();
    await sleep(300);
    b.sock.resetAndDestroy();
    assert.ok(await waitFor(() => openOn(pid, bigReal) === 0, 3000), 'closed after a reset of a stalled client');
    // A ranged read from the middle
    const c = await connectAndRead(srv.port, req('/big.bin', `Range: bytes=${GiB / 2}-\r\n`), 1 * MiB);
    c.sock.destroy();
    assert.ok(await waitFor(() => openOn(pid, bigReal) === 0, 3000), 'closed after a ranged read');
    // Many at once
    const many = await Promise.all(Array.from({ length: 20 }, () => connectAndRead(srv.port, req('/big.bin'), 64 * 1024)));
    for (const m of many) m.sock.destroy();
    assert.ok(await waitFor(() => openOn(pid, bigReal) === 0, 3000), 'closed after 20 disconnects');
    // HEAD opens nothing
    const h = await connectAndRead(srv.port, 'HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n', 10);
    assert.equal(openOn(pid, bigReal), 0);
    h.sock.destroy();
    // The server still serves.
    assert.equal(await (await fetch(`${srv.url}/small.txt`)).text(), 'small');
  });

  test('pipelined requests for a big file, then a disconnect: every descriptor is closed', { timeout: 20_000 }, async () => {
    const p = await connectAndRead(srv.port, req('/big.bin') + req('/big.bin') + req('/big.bin'), 1 * MiB);
    await sleep(100); // the later responses are ready (their files open) behind the first
    p.sock.destroy();
    assert.ok(await waitFor(() => openOn(pid, bigReal) === 0, 3000), `descriptors still open after a pipelined disconnect: ${openOn(pid, bigReal)}`);
  });
});
