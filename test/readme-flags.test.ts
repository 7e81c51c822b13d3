// The README's flags table and `sluice --help` name the same flags with the same arguments, one
// README row per help entry, and a default the help states is the one the README states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, runCli } from './helpers/cli.js';

/** `--port PORT`, `-q, --quiet`... → the text of each help entry after its spec. */
export function helpEntries(help: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | null = null;
  for (const line of help.split('\n')) {
    // An entry: two spaces, the names, an optional argument ([HOST:]PORT, 'NAME: VALUE', BYTES...).
    const m = /^  ((?:-\w, )?--[a-z0-9-]+)(?: ('[^']*'|[A-Z[\]:]+))?(?=\s|$)(.*)$/.exec(line);
    if (m) {
      last = m[2] === undefined ? m[1]! : `${m[1]} ${m[2]}`;
      out.set(last, m[3]!.trim());
    } else if (last !== null && /^ {6,}\S/.test(line)) {
      out.set(last, `${out.get(last)} ${line.trim()}`); // a continuation line
    } else {
      last = null;
    }
  }
  return out;
}

/** The flags table under "### Every flag": its first cell (the flags, in backticks) → the default cell. */
export function readmeRows(readme: string): Map<string, string> {
  const start = readme.indexOf('### Every flag');
  assert.ok(start >= 0, 'the README has a "### Every flag" section');
  const end = readme.indexOf('\n#', start + 5);
  const rows = readme.slice(start, end).split('\n').filter((l) => l.startsWith('| `'));
  const out = new Map<string, string>();
  for (const row of rows) {
    const [flags, dflt] = row.split(' | ');
    const names = [...flags!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).filter((s) => s.startsWith('-'));
    const key = names.join(', ');
    assert.ok(!out.has(key), `README row ${key} appears once`);
    out.set(key, dflt ?? '');
  }
  return out;
}

test('every flag of `sluice --help` has its README row and every README row is a flag of --help', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  const help = helpEntries(r.stdout);
  const readme = readmeRows(fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8'));
  assert.ok(help.size >= 40, `the help was parsed (${help.size} entries)`);
  const notInReadme = [...help.keys()].filter((k) => !readme.has(k));
  const notInHelp = [...readme.keys()].filter((k) => !help.has(k));
  assert.deepEqual(notInReadme, [], 'flags of --help missing from the README table (or with another argument name)');
  assert.deepEqual(notInHelp, [], 'README table rows that --help does not list');
});

test('a numeric default stated by --help is the README row\'s default', async () => {
  const help = helpEntries((await runCli(['--help'])).stdout);
  const readme = readmeRows(fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8'));
  const wrong: string[] = [];
  for (const [flag, text] of help) {
    const d = /\(default (\d+)\)/.exec(text);
    if (d && readme.has(flag) && !readme.get(flag)!.includes(`\`${d[1]}\``)) wrong.push(`${flag}: help ${d[1]}, README ${readme.get(flag)}`);
  }
  assert.deepEqual(wrong, []);
});

test('the parsers see a flag that is missing on either side', () => {
  const help = helpEntries('Options:\n  --port PORT   port\n  --extra N     new\n                continued (default 7)\n  -q, --quiet   quiet\n');
  assert.deepEqual([...help.keys()], ['--port PORT', '--extra N', '-q, --quiet']);
  assert.equal(help.get('--extra N'), 'new continued (default 7)');
  const readme = readmeRows('### Every flag\n\n| flag | default | meaning |\n|---|---|---|\n| `--port PORT` | `7878` | port |\n| `-q`, `--quiet` | off | quiet |\n\n## Next\n');
  assert.deepEqual([...readme.keys()], ['--port PORT', '-q, --quiet']);
  assert.deepEqual([...help.keys()].filter((k) => !readme.has(k)), ['--extra N']);
});
