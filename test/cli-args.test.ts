// CLI flag parsing (src/cli/args.ts) as a pure function: argv + env in, a configuration out, or a
// UsageError whose message names the flag and what was wrong. No server is started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { HELP, parseCli, UsageError, type CliConfig } from '../src/cli/args.js';
import { DEFAULT_PORT } from '../src/server/server.js';
import { repoRoot } from './helpers/cli.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCli(argv, env) as CliConfig;

test('defaults: the demo site on 127.0.0.1, one worker per core', () => {
  const c = parse([]);
  assert.equal(c.dir, undefined);
  assert.equal(c.serve.host, '127.0.0.1');
  assert.equal(c.serve.port, DEFAULT_PORT);
  assert.equal(c.workers, os.availableParallelism());
  assert.equal(c.sleepMs, 5000);
  assert.equal(c.serve.maxHeaderSize, undefined, 'unset limits stay undefined (the library default applies)');
});

test('every flag lands in the configuration', () => {
  const c = parse([
    repoRoot, '--host', '0.0.0.0', '--port', '0', '--workers', '3', '--threads', '2', '--concurrency', '50', '--queue', '0',
    '--sleep-ms', '10', '--max-header-size', '4096', '--max-target-length', '1024', '--max-body-size', '0',
    '--headers-timeout', '1000', '--request-timeout', '2000', '--keep-alive-timeout', '3000', '--shutdown-timeout', '4000',
    '--cache-control', 'no-cache', '--compress', '--single', '--list', '--dotfiles', '--cache-size', '1024',
  ]);
  assert.equal(c.dir, repoRoot);
  assert.deepEqual(
    [c.serve.host, c.serve.port, c.workers, c.threads, c.serve.concurrency, c.serve.queue, c.sleepMs],
    ['0.0.0.0', 0, 3, 2, 50, 0, 10],
  );
  assert.deepEqual(
    [c.serve.maxHeaderSize, c.serve.maxTargetLength, c.serve.maxBodySize, c.serve.headersTimeoutMs, c.serve.requestTimeoutMs, c.serve.keepAliveTimeoutMs, c.serve.shutdownTimeoutMs],
    [4096, 1024, 0, 1000, 2000, 3000, 4000],
  );
  assert.deepEqual(c.static, { cacheControl: 'no-cache', compress: true, single: true, list: true, dotfiles: true, memoryCacheBytes: 1024, cleanUrls: false, trailingSlash: undefined, hide: [] });
  assert.equal(parse(['--port=8080']).serve.port, 8080, '--flag=value works too');
  assert.deepEqual(parse(['--methods', 'PURGE, BREW']).serve.extraMethods, ['PURGE', 'BREW']);
  assert.equal(parse([]).serve.extraMethods, undefined);
});

test('PORT and HOST come from the environment; flags win over it', () => {
  assert.equal(parse([], { PORT: '9000' }).serve.port, 9000);
  assert.equal(parse([], { HOST: '::1' }).serve.host, '::1');
  assert.equal(parse(['--port', '9001'], { PORT: '9000' }).serve.port, 9001);
  assert.throws(() => parse([], { PORT: 'eighty' }), /--port must be a whole number, got "eighty"/);
});

test('--help and --version', () => {
  assert.equal(parseCli(['--help'], {}), 'help');
  assert.equal(parseCli(['-h'], {}), 'help');
  assert.equal(parseCli(['-v'], {}), 'version');
  assert.equal(parseCli(['--port', '1', '--version'], {}), 'version');
  for (const flag of ['--host', '--port', '--workers', '--max-header-size', '--cache-size', '--compress']) assert.ok(HELP.includes(flag), `help lists ${flag}`);
});

// Each bad flag: a UsageError whose message says which flag and why.
const bad: [string[], RegExp][] = [
  [['--port', 'abc'], /^--port must be a whole number, got "abc"$/],
  [['--port', '70000'], /^--port must be between 0 and 65535, got 70000$/],
  [['--port=-1'], /^--port must be a whole number, got "-1"$/],
  [['--port', '-1'], /^Option '--port' needs a value \(one that starts with "-" is written --port=VALUE\)$/],
  [['--port', '1.5'], /^--port must be a whole number/],
  [['--port', ''], /^--port must be a whole number, got ""$/],
  [['--workers', '0'], /^--workers must be between 1 and 1024, got 0$/],
  [['--workers', 'x'], /^--workers must be a whole number/],
  [['--threads', '2000'], /^--threads must be between 1 and 1024/],
  [['--concurrency', '0'], /^--concurrency must be between 1 and/],
  [['--queue', 'many'], /^--queue must be a whole number/],
  [['--sleep-ms=-5'], /^--sleep-ms must be a whole number/],
  [['--max-header-size', '100'], /^--max-header-size must be between 256 and 1048576, got 100$/],
  [['--max-target-length', '8'], /^--max-target-length must be between 16/],
  [['--max-body-size', '1e6'], /^--max-body-size must be a whole number, got "1e6"$/],
  [['--methods', 'PURGE,'], /^--methods: not a method name: ""/],
  [['--methods', 'BR EW'], /^--methods: not a method name: "BR EW"/],
  [['--methods', 'GET/1'], /^--methods: not a method name: "GET\/1"/],
  [['--headers-timeout', '0'], /^--headers-timeout must be between 1 and 86400000/],
  [['--request-timeout', '99999999999'], /^--request-timeout must be between 1 and/],
  [['--keep-alive-timeout', 'soon'], /^--keep-alive-timeout must be a whole number/],
  [['--shutdown-timeout', '0'], /^--shutdown-timeout must be between 1/],
  [[repoRoot, '--cache-size=-1'], /^--cache-size must be a whole number/],
  [['--cache-size=1'], /^--cache-size only applies to a folder: sluice DIR --cache-size/],
  [['--host', ''], /^--host is not a valid address: ""$/],
  [['--host', 'a b'], /^--host is not a valid address: "a b"$/],
  [['--host', 'http://x'], /^--host is not a valid address/],
  [['--bogus'], /^Unknown option '--bogus' \(a folder whose name starts with "-" goes after "--"\)$/],
  [['-x'], /^Unknown option '-x'/],
  [['--port'], /^Option '--port <value>' argument missing$/],
  [['--compress=yes'], /^Option '--compress' does not take an argument$/],
  [['/definitely/not/here'], /^folder not found: \/definitely\/not\/here$/],
  [[`${repoRoot}/package.json`], /^neither a folder nor a JavaScript module \(\.js, \.mjs, \.cjs\): .*package\.json$/],
  [[repoRoot, repoRoot], /^expected at most one folder, got 2$/],
];

for (const [argv, message] of bad) {
  test(`bad: ${argv.join(' ') || '(empty)'} → UsageError ${message}`, () => {
    assert.throws(() => parseCli(argv, {}), (err: unknown) => {
      assert.ok(err instanceof UsageError, `a UsageError, got ${String(err)}`);
      assert.match(err.message, message);
      return true;
    });
  });
}

test('every message has balanced quotes (it is printed above "Try \'sluice --help\'.")', () => {
  for (const [argv] of bad) {
    try {
      parseCli(argv, {});
    } catch (err) {
      const m = (err as Error).message;
      assert.equal((m.match(/'/g) ?? []).length % 2, 0, `single quotes balanced in: ${m}`);
      assert.equal((m.match(/"/g) ?? []).length % 2, 0, `double quotes balanced in: ${m}`);
    }
  }
});

test('a folder named like an option is served after "--"', () => {
  assert.throws(() => parseCli(['--', '-weird'], {}), (err: Error) => err instanceof UsageError && err.message === 'folder not found: -weird');
});
