// sluice behind a real HAProxy: three CLI instances (two single-process, one cluster primary with
// two workers), each with --proxy-protocol, --admin and a drain delay; HAProxy health-checks
// /readyz on the admin ports and sends PROXY v2, reusing idle server connections
// (`http-reuse always`). A keep-alive load client counts failed requests through it while
// instances are SIGTERMed, restarted one after another, and SIGKILLed.
//
// HAProxy reuses a server connection only for requests with the same PROXY block, i.e. the same
// client connection; a third backend without PROXY (X-Forwarded-For to a library app with
// trustProxy) shares idle server connections across client sessions, where a keep-alive race
// would show.
//
// Two frontends share the servers: "strict" retries nothing (a drain that loses a request, or a
// keep-alive race, shows as a failure), "retry" is configured as docs/DEPLOY.md recommends
// (retries + redispatch), which is what covers a killed instance.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { distDir, startCli, startScript, type Running } from './helpers/cli.js';
import { haproxyMissing, startHaproxy, type Haproxy } from './helpers/haproxy.js';
import { getJson, startLoad } from './helpers/load.js';
import { freePorts } from './helpers/ports.js';

const DRAIN_DELAY_MS = 2000;
const KEEP_ALIVE_MS = 30_000; // above every HAProxy timeout below: sluice never closes an idle connection first
const CHECK_INTER_MS = 250;

interface Instance { name: string; port: number; admin: number; workers: number; run: Running | null }

interface Ports { strict: number; retry: number; whoami: number; whoamiFe: number; shared: number; sharedFe: number }

function config(ports: Ports, instances: Instance[]): string {
  const servers = instances.map((i) => `  server ${i.name} 127.0.0.1:${i.port} check port ${i.admin}`).join('\n');
  const checks = `  option httpchk GET /readyz
  http-check expect status 200
  default-server inter ${CHECK_INTER_MS}ms fall 2 rise 2 send-proxy-v2`;
  return `global
  stats socket $SOCKET level admin
defaults
  mode http
  timeout connect 1s
  timeout client 20s
  timeout server 10s
  timeout http-keep-alive 10s
  http-reuse always
frontend strict
  bind 127.0.0.1:${ports.strict}
  default_backend strict
frontend retry
  bind 127.0.0.1:${ports.retry}
  default_backend retry
frontend whoami
  bind 127.0.0.1:${ports.whoamiFe}
  default_backend whoami
frontend shared
  bind 127.0.0.1:${ports.sharedFe}
  default_backend shared
backend strict
  retries 0
  retry-on none
${checks}
${servers}
backend retry
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout
${checks}
${servers}
backend whoami
  # Health checks on the main port: with check-send-proxy they carry a PROXY v2 LOCAL preamble.
  option httpchk GET /
  server w 127.0.0.1:${ports.whoami} send-proxy-v2 check check-send-proxy inter ${CHECK_INTER_MS}ms rise 1
backend shared
  # No PROXY block, so idle server connections are shared by every client session.
  option forwardfor
  retries 0
  retry-on none
  server x 127.0.0.1:${ports.shared}
`;
}

/** A whoami body check: the handler saw `address` as the client. */
const sees = (address: string) => (body: string) => {
  const seen = (JSON.parse(body) as { remoteAddress: string }).remoteAddress;
  return seen === address ? null : `sent from ${address}, the handler saw ${seen}`;
};

const skip = haproxyMissing;
if (skip) console.log(`# skipping the HAProxy tests: ${skip}`);

describe('behind HAProxy (PROXY v2, health checks on the admin port, http-reuse always)', { skip: skip ?? undefined, timeout: 60_000 }, () => {
  let haproxy: Haproxy;
  let whoami: Running;
  let shared: Running;
  let ports: Ports;
  const instances: Instance[] = [];

  const start = async (i: Instance) => {
    i.run = await startCli(['--workers', String(i.workers), '--port', String(i.port), '--admin', String(i.admin), '--proxy-protocol',
      '--drain-delay', String(DRAIN_DELAY_MS), '--keep-alive-timeout', String(KEEP_ALIVE_MS), '--shutdown-timeout', '5000'], { timeoutMs: 15_000 });
  };
  const bothUp = async (i: Instance) => {
    await haproxy.waitFor('strict', i.name, 'UP', 15_000);
    await haproxy.waitFor('retry', i.name, 'UP', 15_000);
  };

  /**
   * SIGTERMs an instance and times two events: HAProxy's strict backend marking it DOWN, and the
   * instance's own log line that says it stops accepting (the end of the drain delay).
   */
  const terminate = async (i: Instance) => {
    const run = i.run!;
    const sent = Date.now();
    run.proc.kill('SIGTERM');
    const drainLine = (async () => {
      while (!/: draining \d+ (connection|worker)/.test(run.output())) {
        if (run.proc.exitCode !== null) break;
        await delay(10);
      }
      return Date.now() - sent;
    })();
    await haproxy.waitFor('strict', i.name, 'DOWN', DRAIN_DELAY_MS * 3);
    const downAfter = Date.now() - sent;
    const drainAfter = await drainLine;
    const code = await run.exited;
    return { downAfter, drainAfter, code };
  };

  before(async () => {
    const [strict, retry, whoamiPort, whoamiFe, sharedPort, sharedFe, ...rest] = await freePorts(12);
    ports = { strict: strict!, retry: retry!, whoami: whoamiPort!, whoamiFe: whoamiFe!, shared: sharedPort!, sharedFe: sharedFe! };
    for (let k = 0; k < 3; k++) instances.push({ name: `s${k + 1}`, port: rest[2 * k]!, admin: rest[2 * k + 1]!, workers: k === 2 ? 2 : 1, run: null });
    await Promise.all(instances.map(start));
    const app = path.join(distDir, 'test', 'fixtures', 'proxy', 'whoami.js');
    whoami = await startScript(app, ['--port', String(ports.whoami), '--proxy-protocol']);
    shared = await startScript(app, ['--port', String(ports.shared), '--trust-proxy', '127.0.0.1', '--keep-alive-timeout', String(KEEP_ALIVE_MS)]);
    haproxy = await startHaproxy(config(ports, instances), ports.strict);
    for (const i of instances) await bothUp(i);
  });

  after(async () => {
    await haproxy?.stop();
    await whoami?.stop();
    await shared?.stop();
    await Promise.all(instances.map((i) => i.run?.stop()));
  });

  test('the handler sees the load client\'s address, carried by PROXY v2 (not HAProxy\'s); LOCAL health checks pass', async () => {
    // HAProxy's checks of the whoami app carry a LOCAL preamble; they must pass (L7OK), not merely not have failed yet.
    let check = '';
    for (const end = Date.now() + 5000; check !== 'L7OK' && Date.now() < end; await delay(50)) check = (await haproxy.column('whoami', 'check_status')).w ?? '';
    assert.equal(check, 'L7OK');
    // The clients bind 127.0.0.2 and 127.0.0.3; HAProxy connects to the app from 127.0.0.1. Each
    // response must name its own client, even with http-reuse always.
    const loads = ['127.0.0.2', '127.0.0.3'].map((localAddress) => startLoad({ port: ports.whoamiFe, concurrency: 2, localAddress, expect: sees(localAddress) }));
    await delay(500);
    for (const r of await Promise.all(loads.map((l) => l.stop()))) {
      assert.equal(r.failed, 0, r.errors.join('; '));
      assert.ok(r.ok > 10);
    }
    const seen = await getJson<{ remoteAddress: string; xForwardedFor: string | null }>({ port: ports.whoamiFe, localAddress: '127.0.0.2' });
    assert.equal(seen.remoteAddress, '127.0.0.2');
    assert.equal(seen.xForwardedFor, null, 'no forwarding field was involved');
  });

  test('http-reuse always across client sessions (X-Forwarded-For, no retries): 0 failed requests, each names its own client', async (t) => {
    // A new client connection per request: every request is a new HAProxy session, served over
    // whichever idle server connection HAProxy picks from the shared pool.
    const loads = ['127.0.0.2', '127.0.0.3'].map((localAddress) => startLoad({ port: ports.sharedFe, concurrency: 4, keepAlive: false, localAddress, expect: sees(localAddress) }));
    await delay(2000);
    const rs = await Promise.all(loads.map((l) => l.stop()));
    t.diagnostic(rs.map((r) => `${r.ok} ok, ${r.failed} failed`).join('; '));
    for (const r of rs) {
      assert.equal(r.failed, 0, r.errors.join('; '));
      assert.ok(r.ok > 50, `a steady stream went through (${r.ok})`);
    }
  });

  test('SIGTERM with a drain delay: HAProxy marks the instance down before it stops accepting; 0 failed requests', async (t) => {
    const load = startLoad({ port: ports.strict, concurrency: 8 });
    await delay(500);
    const i = instances[0]!;
    const { downAfter, drainAfter, code } = await terminate(i);
    await delay(300);
    const r = await load.stop();
    t.diagnostic(`down after ${downAfter} ms, drain started after ${drainAfter} ms; ${r.ok} requests ok, ${r.failed} failed`);
    assert.equal(code, 0);
    assert.ok(downAfter < drainAfter, `DOWN at ${downAfter} ms, before the listener closed at ${drainAfter} ms`);
    assert.ok(drainAfter >= DRAIN_DELAY_MS - 50, `the drain waited for the delay (${drainAfter} ms)`);
    assert.match(haproxy.output(), /Server strict\/s1 is DOWN, reason: Layer7 wrong status, code: 503/, 'taken out by the readiness check');
    assert.equal(r.failed, 0, r.errors.join('; '));
    assert.ok(r.ok > 200, `a steady stream went through (${r.ok})`);
    await start(i);
    await bothUp(i);
  });

  test('rolling restart of all three, one after another: 0 failed requests', async (t) => {
    const load = startLoad({ port: ports.strict, concurrency: 8 });
    await delay(300);
    const timeline: string[] = [];
    for (const i of instances) {
      const before = load.result.ok;
      const { downAfter, drainAfter, code } = await terminate(i);
      assert.equal(code, 0, `${i.name} exited cleanly`);
      assert.ok(downAfter < drainAfter, `${i.name}: DOWN at ${downAfter} ms, before the listener closed at ${drainAfter} ms`);
      await start(i);
      await bothUp(i);
      timeline.push(`${i.name}: down ${downAfter} ms, drain ${drainAfter} ms, ${load.result.ok - before} ok meanwhile`);
    }
    const r = await load.stop();
    t.diagnostic(`${timeline.join('; ')}; total ${r.ok} ok, ${r.failed} failed`);
    assert.equal(r.failed, 0, r.errors.join('; '));
  });

  test('SIGKILL: the health check takes the instance out; retries + redispatch keep failures under 0.1%', async (t) => {
    const load = startLoad({ port: ports.retry, concurrency: 8 });
    // The same traffic without retries, for comparison only (reported, not asserted).
    const bare = startLoad({ port: ports.strict, concurrency: 4 });
    await delay(500);
    const i = instances[1]!;
    const killed = Date.now();
    i.run!.proc.kill('SIGKILL');
    await haproxy.waitFor('retry', i.name, 'DOWN', 5000);
    const downAfter = Date.now() - killed;
    await delay(500);
    const [r, b] = await Promise.all([load.stop(), bare.stop()]);
    const total = r.ok + r.failed;
    t.diagnostic(`DOWN ${downAfter} ms after SIGKILL; ${r.failed} of ${total} requests failed (${((100 * r.failed) / total).toFixed(3)}%); ` +
      `without retries: ${b.failed} of ${b.ok + b.failed}`);
    assert.match(haproxy.output(), /Server retry\/s2 is DOWN, reason: Layer4 connection problem/);
    assert.ok(r.failed / total < 0.001, `${r.failed} of ${total} failed: ${r.errors.join('; ')}`);
    i.run = null;
  });
});
