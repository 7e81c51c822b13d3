// The CLI for a person at a desk: a busy default port is replaced by a free one (also with
// --workers, where the primary chooses before forking), an explicit busy port stays an error,
// the network addresses are printed when listening on every interface, and folder-only flags
// without a folder are refused. Real processes, real sockets; every child is killed.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { cliPath, runCli, startCli, startScript, type Running } from './helpers/cli.js';
import { lanUrls } from '../src/cli/port.js';
import { DEFAULT_PORT } from '../src/server/server.js';

const T = { timeout: 30_000 };

/** Holds `port` on 127.0.0.1 if nobody does (someone else holding it is just as busy). */
function occupy(port: number): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const srv = net.createServer((s) => s.destroy());
    srv.once('error', () => resolve(null));
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

function waitFor(s: Running, re: RegExp, ms = 5000): Promise<string> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (re.test(s.output())) return resolve(s.output());
      if (Date.now() > deadline) return reject(new Error(`no ${re} in:\n${s.output()}`));
      setTimeout(check, 50);
    };
    check();
  });
}

describe('ports', () => {
  const running: Running[] = [];
  const held: net.Server[] = [];
  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
    for (const h of held) h.close();
  });
  const noPortEnv = { PORT: undefined, HOST: undefined };

  for (const workers of ['1', '2']) {
    test(`no --port and ${DEFAULT_PORT} busy: another port is chosen and said (--workers ${workers})`, T, async () => {
      const h = await occupy(DEFAULT_PORT);
      if (h) held.push(h);
      const s = await startScript(cliPath, ['--workers', workers], { timeoutMs: 20_000, env: noPortEnv });
      running.push(s);
      assert.notEqual(s.port, DEFAULT_PORT);
      assert.match(s.output(), new RegExp(`port ${DEFAULT_PORT} is in use, so using port ${s.port} instead`));
      const r = await fetch(`${s.url}/`, { signal: AbortSignal.timeout(5000) });
      assert.equal(r.status, 200);
      assert.match(await r.text(), /<h1>Hello!<\/h1>/);
      if (workers === '2') assert.match(s.output(), /\(2 workers(, reusePort)?\)/);
    });
  }

  test('an explicit --port that is busy stays an error (exit 2)', T, async () => {
    const h = (await occupy(0))!;
    held.push(h);
    const port = (h.address() as net.AddressInfo).port;
    const r = await runCli(['--workers', '1', '--port', String(port)]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
  });

  test('--host 0.0.0.0 prints the addresses to use from this machine and the network', T, async () => {
    const s = await startCli(['--workers', '1', '--host', '0.0.0.0']);
    running.push(s);
    const out = await waitFor(s, /on this machine: http:\/\/localhost:\d+\//);
    for (const u of lanUrls('0.0.0.0', s.port)) assert.ok(out.includes(`on your network: ${u}`), `${u} in\n${out}`);
    if (lanUrls('0.0.0.0', s.port).length === 0) assert.match(out, /no network interface is up/);
    assert.equal((await fetch(`http://127.0.0.1:${s.port}/`, { signal: AbortSignal.timeout(5000) })).status, 200);
  });

  test('lanUrls: non-internal IPv4 for 0.0.0.0, also global IPv6 for ::; nothing for a specific host', () => {
    const ifs = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [{ address: '192.168.1.20', family: 'IPv4', internal: false }, { address: 'fe80::1', family: 'IPv6', internal: false }, { address: '2001:db8::5', family: 'IPv6', internal: false }],
    } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;
    assert.deepEqual(lanUrls('0.0.0.0', 80, ifs), ['http://192.168.1.20:80/']);
    assert.deepEqual(lanUrls('::', 80, ifs), ['http://192.168.1.20:80/', 'http://[2001:db8::5]:80/']);
    assert.deepEqual(lanUrls('127.0.0.1', 80, ifs), []);
  });
});

describe('folder-only flags without a folder', () => {
  for (const flags of [['--list'], ['--single'], ['--compress'], ['--dotfiles'], ['--clean-urls'], ['--config', 'x.json'], ['--cache-size', '10']]) {
    test(`${flags[0]} without DIR → exit 2 with a message`, T, async () => {
      const r = await runCli([...flags, '--port', '0']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`${flags[0]} only applies to a folder: sluice DIR ${flags[0]}`));
    });
  }

  test('an unknown flag: a short message (balanced quotes), exit 2', T, async () => {
    const r = await runCli(['--bogus']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "sluice: Unknown option '--bogus' (a folder whose name starts with \"-\" goes after \"--\")\nTry 'sluice --help'.\n");
  });

  test('--cors and --header work on the demo site too', T, async () => {
    const s = await startCli(['--workers', '1', '--cors', '--header', 'X-Demo: yes']);
    try {
      const r = await fetch(`${s.url}/`, { signal: AbortSignal.timeout(5000) });
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      assert.equal(r.headers.get('x-demo'), 'yes');
    } finally {
      await s.stop();
    }
  });
});
