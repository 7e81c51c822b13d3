// /metrics over real sockets: strict Prometheus text, request counters that add up over the
// workers, a connection gauge that follows open connections, protocol errors by status, and an
// admin port that keeps answering (and counts the restart) while a worker is SIGKILLed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { adminUrl, startCli } from './helpers/cli.js';

interface Sample { name: string; labels: Record<string, string>; value: number }
interface Family { type: string; help: string; samples: Sample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(?:,|$)/;

/** A strict parser of the Prometheus text format (0.0.4): throws on anything malformed. */
function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const familyOf = (sample: string) => {
    for (const suffix of ['_bucket', '_sum', '_count', '']) {
      if (!sample.endsWith(suffix)) continue;
      const f = families.get(sample.slice(0, sample.length - suffix.length));
      if (f && (suffix === '' || f.type === 'histogram' || f.type === 'summary')) return f;
    }
    throw new Error(`sample ${sample} has no # TYPE before it`);
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m;
    if ((m = /^# HELP (\S+) (.*)$/.exec(line))) {
      if (!NAME.test(m[1]!)) throw new Error(`bad metric name: ${line}`);
      if (families.has(m[1]!)) throw new Error(`family repeated: ${line}`);
      families.set(m[1]!, { type: '', help: m[2]!, samples: [] });
    } else if ((m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      const f = families.get(m[1]!);
      if (!f || f.type !== '' || f.samples.length) throw new Error(`TYPE out of place: ${line}`);
      f.type = m[2]!;
    } else if ((m = SAMPLE.exec(line))) {
      const labels: Record<string, string> = {};
      let rest = m[2] ?? '';
      while (rest !== '') {
        const l = LABEL.exec(rest);
        if (!l) throw new Error(`bad labels: ${line}`);
        labels[l[1]!] = l[2]!;
        rest = rest.slice(l[0].length);
      }
      const v = m[3]!;
      const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : v === 'NaN' ? NaN : Number(v);
      if (v !== 'NaN' && Number.isNaN(value)) throw new Error(`bad value: ${line}`);
      familyOf(m[1]!).samples.push({ name: m[1]!, labels, value });
    } else {
      throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    }
  }
  for (const [name, f] of families) {
    if (!name.startsWith('sluice_')) throw new Error(`${name} does not start with sluice_`);
    if (f.type === 'counter' && !name.endsWith('_total')) throw new Error(`counter ${name} does not end in _total`);
    if (f.type === 'histogram') {
      const buckets = f.samples.filter((s) => s.name.endsWith('_bucket'));
      for (let i = 1; i < buckets.length; i++) if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${name}: buckets not cumulative`);
      if (buckets.at(-1)?.labels.le !== '+Inf') throw new Error(`${name}: no +Inf bucket`);
      const count = f.samples.find((s) => s.name === `${name}_count`);
      if (count?.value !== buckets.at(-1)!.value) throw new Error(`${name}: _count differs from the +Inf bucket`);
    }
  }
  return families;
}


async function scrape(admin: string): Promise<Map<string, Family>> {
  const res = await fetch(`${admin}/metrics`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

const familyOf = (f: Map<string, Family>, name: string) => f.get(name) ?? f.get(name.replace(/_(bucket|sum|count)$/, ''));
const value = (f: Map<string, Family>, name: string, labels: Record<string, string> = {}) =>
  familyOf(f, name)?.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0) ?? 0;

/** Scrapes until `ok` holds (the workers report about once a second). */
async function until(admin: string, ok: (f: Map<string, Family>) => boolean, what: string, deadlineMs = 10_000): Promise<Map<string, Family>> {
  const end = Date.now() + deadlineMs;
  let last = await scrape(admin);
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
    last = await scrape(admin);
  }
  return last;
}

async function requests(base: string, n: number, path: string, parallel = 10): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < n) {
      next++;
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
    }
  }));
}

for (const workers of ['1', '2']) {
  test(`--workers ${workers}: /metrics parses strictly and counts every request sent, by status, with its duration histogram`, { timeout: 60_000 }, async () => {
    const srv = await startCli(['--workers', workers, '--admin', '0']);
    try {
      const admin = await adminUrl(srv.output);
      await requests(srv.url, 150, '/');
      await requests(srv.url, 50, '/missing');
      const f = await until(admin, (m) => value(m, 'sluice_http_requests_total') === 200, '200 requests counted');
      assert.equal(value(f, 'sluice_http_requests_total', { code: '200' }), 150);
      assert.equal(value(f, 'sluice_http_requests_total', { code: '404' }), 50);
      assert.equal(value(f, 'sluice_http_request_duration_seconds_count'), 200);
      assert.ok(value(f, 'sluice_http_request_duration_seconds_sum') > 0);
      assert.ok(value(f, 'sluice_http_response_body_bytes_total') > 200 * 100);
      assert.equal(value(f, 'sluice_workers'), Number(workers));
      assert.ok(value(f, 'sluice_connections_accepted_total') >= 10);
      for (const name of ['sluice_process_cpu_seconds_total', 'sluice_process_resident_memory_bytes', 'sluice_process_event_loop_delay_seconds']) {
        const ids = new Set(f.get(name)!.samples.map((s) => s.labels.worker));
        assert.equal(ids.size, workers === '1' ? 1 : 3, `${name} for each worker (and the primary)`);
      }
      assert.ok(value(f, 'sluice_process_resident_memory_bytes') > 10e6);
    } finally {
      await srv.stop();
    }
  });
}

test('the connection gauge follows open connections; protocol errors are counted by status', { timeout: 60_000 }, async () => {
  const srv = await startCli(['--workers', '2', '--admin', '0']);
  const sockets: net.Socket[] = [];
  try {
    const admin = await adminUrl(srv.output);
    // Ten keep-alive connections, each served once and left open.
    for (let i = 0; i < 10; i++) {
      const s = net.connect(srv.port, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
      await new Promise<void>((resolve) => { s.once('data', () => resolve()); s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'); });
    }
    await until(admin, (m) => value(m, 'sluice_connections_open') === 10, 'sluice_connections_open 10');
    for (const s of sockets.splice(0, 6)) s.destroy();
    await until(admin, (m) => value(m, 'sluice_connections_open') === 4, 'sluice_connections_open 4');
    // A garbage request (400) and a header that is too large (431), on fresh connections.
    const send = (bytes: string) => new Promise<void>((resolve) => {
      const s = net.connect(srv.port, '127.0.0.1', () => s.end(bytes));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.resume();
    });
    await send('BLAH\r\n\r\n');
    await send(`GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(70_000)}\r\n\r\n`);
    const f = await until(admin, (m) => value(m, 'sluice_http_protocol_errors_total') === 2, 'two protocol errors');
    assert.equal(value(f, 'sluice_http_protocol_errors_total', { code: '400' }), 1);
    assert.equal(value(f, 'sluice_http_protocol_errors_total', { code: '431' }), 1);
    assert.equal(value(f, 'sluice_http_requests_total', { code: '200' }), 10, 'protocol errors are responses too, but not 200s');
  } finally {
    for (const s of sockets) s.destroy();
    await srv.stop();
  }
});

test('the admin port answers while a worker is SIGKILLed, and the restart is counted', { timeout: 60_000 }, async () => {
  const srv = await startCli(['--workers', '2', '--admin', '0']);
  try {
    const admin = await adminUrl(srv.output);
    const f = await until(admin, (m) => value(m, 'sluice_workers') === 2, 'two workers reporting');
    assert.equal(value(f, 'sluice_worker_restarts_total'), 0);
    const pids = await workerPids(admin);
    assert.equal(pids.length, 2);
    process.kill(pids[0]!, 'SIGKILL');
    // Right away and during the replacement: probes and metrics answer.
    for (let i = 0; i < 10; i++) {
      assert.equal((await fetch(`${admin}/healthz`, { signal: AbortSignal.timeout(2_000) })).status, 200);
      await scrape(admin);
      await delay(30);
    }
    const after = await until(admin, (m) => value(m, 'sluice_worker_restarts_total') === 1 && value(m, 'sluice_workers') === 2, 'restart counted, two workers again');
    assert.equal(value(after, 'sluice_worker_restarts_total'), 1);
    // The worker list follows within a reporting interval or so.
    let now = await workerPids(admin);
    for (let i = 0; i < 50 && (now.includes(pids[0]!) || now.length !== 2); i++) { await delay(100); now = await workerPids(admin); }
    assert.ok(!now.includes(pids[0]!) && now.includes(pids[1]!) && now.length === 2, `the killed worker was replaced: ${pids} → ${now}`);
    assert.equal((await fetch(`${admin}/readyz`)).status, 200);
    const status = await (await fetch(`${admin}/status.json`)).json() as { recentRestarts: Array<{ pid: number; how: string }> };
    assert.deepEqual(status.recentRestarts.map((r) => [r.pid, r.how]), [[pids[0], 'was killed by SIGKILL']], 'the status page lists it');
  } finally {
    await srv.stop();
  }
});

/** The serving processes' pids, from the status page's data (the latest one-second sample). */
async function workerPids(admin: string): Promise<number[]> {
  for (let i = 0; i < 50; i++) {
    const s = await (await fetch(`${admin}/status.json`)).json() as { history: Array<{ workers: Array<{ id: string; pid: number }> }> };
    const last = s.history.at(-1);
    if (last) return last.workers.filter((w) => w.id !== 'primary').map((w) => w.pid);
    await delay(100);
  }
  throw new Error('no sample in /status.json');
}

test('counters survive a rolling restart (SIGHUP): requests served by the old workers are still counted', { timeout: 60_000 }, async () => {
  const srv = await startCli(['--workers', '2', '--admin', '0']);
  try {
    const admin = await adminUrl(srv.output);
    await until(admin, (m) => value(m, 'sluice_workers') === 2, 'two workers reporting');
    let sent = 0;
    let stop = false;
    const client = async () => {
      while (!stop) {
        const res = await fetch(`${srv.url}/`, { signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer();
        sent++;
      }
    };
    const clients = [client(), client(), client()];
    await delay(500);
    srv.proc.kill('SIGHUP');
    const end = Date.now() + 20_000;
    while (!/rolling restart done/.test(srv.output())) {
      if (Date.now() > end) throw new Error(`no rolling restart:\n${srv.output()}`);
      await delay(50);
    }
    stop = true;
    await Promise.all(clients);
    let counted = 0;
    const f = await until(admin, (m) => (counted = value(m, 'sluice_http_requests_total')) === sent, `${sent} requests counted`)
      .catch((err: Error) => { throw new Error(`${err.message}: ${counted} counted`); });
    assert.equal(value(f, 'sluice_worker_restarts_total'), 0, 'a planned restart is not a crash');
  } finally {
    await srv.stop();
  }
});
