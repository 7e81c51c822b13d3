// Output: the terminal table, docs/BENCHMARKS.md (regenerated, keeping the hand-written notes
// between the markers) and docs/bench-chart.svg (a hand-written SVG, no dependency).
import fs from 'node:fs';
import path from 'node:path';
import type { BenchResults, ScenarioResult, ServerResult, Spread } from './results.js';
import { headline } from './results.js';

export const NOTES_BEGIN = '<!-- notes:begin (hand-written; kept when the file is regenerated) -->';
export const NOTES_END = '<!-- notes:end -->';

const DEFAULT_NOTES = `## Notes / what each optimisation bought

_Hand-written section: \`npm run bench\` keeps everything between the notes markers. Record here what
each change to the engine bought, with the scenario and the before/after medians, e.g._

- (date, commit) change — scenario N: before → after req/s (±spread).
`;

// ---------------------------------------------------------------------------------------------
// Number formatting

export function fmtInt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return Math.round(x).toLocaleString('en-US');
}

export function fmtMs(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toString();
}

function fmtShort(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (x >= 100) return Math.round(x).toString();
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function fmtRatio(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(2)}×`;
}

function spread(s: Spread | undefined, f: (x: number) => string): string {
  return s ? `${f(s.min)}–${f(s.max)}` : '–';
}

function sum(r: ServerResult, metric: string): number | undefined {
  if (r.rounds.length === 0) return undefined;
  return r.rounds.reduce((a, x) => a + (x[metric] ?? 0), 0);
}

// ---------------------------------------------------------------------------------------------
// Rows shared by the terminal and Markdown tables

interface Table { header: string[]; rows: string[][]; right: boolean[] }

function scenarioTable(sc: ScenarioResult): Table {
  if (sc.kind === 'concurrency') {
    const header = ['server', 'req/s (median)', 'min–max', 'p50 ms', 'p99 ms', 'max ms', 'time-outs', 'socket errors', 'listen drops'];
    const rows = sc.servers.map((r) => r.status !== 'ok'
      ? [r.server, r.status, '', '', '', '', '', '', '']
      : [r.server, fmtInt(r.summary.rps?.median), spread(r.summary.rps, fmtShort), fmtMs(r.summary.p50?.median),
        fmtMs(r.summary.p99?.median), fmtMs(r.summary.max?.median), fmtInt(sum(r, 'timeouts')), fmtInt(sum(r, 'socketErrors')),
        fmtInt(sum(r, 'listenDrops'))]);
    return { header, rows, right: [false, true, true, true, true, true, true, true, true] };
  }
  if (sc.kind === 'rps') {
    const header = ['server', 'req/s (median)', 'min–max', 'p50 ms', 'p99 ms', 'MB/s', 'errors', 'non-2xx'];
    const rows = sc.servers.map((r) => r.status !== 'ok'
      ? [r.server, r.status, '', '', '', '', '', '']
      : [r.server, fmtInt(r.summary.rps?.median), spread(r.summary.rps, fmtShort), fmtMs(r.summary.p50?.median),
        fmtMs(r.summary.p99?.median), fmtShort(r.summary.mbPerSec?.median ?? NaN), fmtInt(sum(r, 'errors')), fmtInt(sum(r, 'non2xx'))]);
    return { header, rows, right: [false, true, true, true, true, true, true, true] };
  }
  if (sc.kind === 'memory') {
    const kib = (x: Spread | undefined) => (x?.median ?? NaN).toFixed(2);
    const rows = sc.servers.map((r) => r.status !== 'ok'
      ? [r.server, r.status, '', '', '', '', '', '', '']
      : [r.server, kib(r.summary.heldKibPerConn), spread(r.summary.heldKibPerConn, (x) => x.toFixed(2)), kib(r.summary.heapKibPerConn),
        kib(r.summary.nativeKibPerConn), kib(r.summary.rssKibPerConn), fmtInt(r.summary.youngGenMb?.median),
        fmtInt(r.summary.rssBeforeMb?.median), fmtInt(r.summary.rssAfterMb?.median)]);
    return {
      header: ['server', 'held KiB/conn', 'min–max', 'heap KiB/conn', 'native KiB/conn', 'RSS KiB/conn', 'young gen +MB', 'RSS before MB', 'RSS idle MB'],
      rows, right: [false, true, true, true, true, true, true, true, true],
    };
  }
  const header = ['server', 'all answered in (s)', 'min–max', 'answered', 'errors', 'peak RSS MB', 'idle RSS MB', 'p50 ms', 'p99 ms',
    'connect all (s)', 'accept-queue overflows'];
  const s2 = (x: Spread | undefined) => (x ? x.median.toFixed(2) : '–');
  const rows = sc.servers.map((r) => r.status !== 'ok'
    ? [r.server, r.status, '', '', '', '', '', '', '', '', '']
    : [r.server, s2(r.summary.totalS), spread(r.summary.totalS, (x) => x.toFixed(2)),
      fmtInt(r.summary.answered?.median), fmtInt(sum(r, 'errors')), fmtInt(r.summary.peakRssMb?.median),
      fmtInt(r.summary.idleRssMb?.median), fmtMs(r.summary.p50?.median), fmtMs(r.summary.p99?.median),
      s2(r.summary.connectAllS), fmtInt(sum(r, 'listenOverflows'))]);
  return { header, rows, right: [false, true, true, true, true, true, true, true, true, true, true] };
}

function ratioLine(sc: ScenarioResult): string {
  const parts = Object.entries(sc.ratios).map(([k, v]) => `${k} ${fmtRatio(v)}`);
  if (parts.length === 0) return '';
  const what = sc.kind === 'sleep' ? 'time until all answered (lower is better)' : sc.kind === 'memory' ? 'KiB held per idle connection, lower is better' : 'req/s';
  return `ratios of the medians (${what}): ${parts.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// Terminal

function textTable(t: Table, indent = '  '): string {
  const widths = t.header.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => indent + cells.map((c, i) => (t.right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(t.header), indent + widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

export function terminalReport(res: BenchResults): string {
  const out: string[] = [];
  const m = res.machine;
  out.push(`sluice benchmarks — ${res.date} — mode ${res.mode}, ${res.options.rounds} round(s) × ${res.options.durationS} s`);
  out.push(`${m.cpu} (${m.cores} cores), Node ${m.node}, ${m.loadGenerator}${m.nginx ? `, ${m.nginx}` : ', no nginx'}, ` +
    (m.taskset ? 'server on CPU 1 / load on CPU 0' : 'no taskset: not pinned') +
    `, load average ${m.loadAvg.start.toFixed(2)} at start, ${m.loadAvg.end.toFixed(2)} at end`);
  if (m.loadAvg.start > 1 || m.loadAvg.end > 1.5) out.push('WARNING: the machine was busy with other work during the run; the figures are noisy.');
  for (const sc of res.scenarios) {
    out.push('');
    out.push(`[${sc.id}] ${sc.title}`);
    out.push(`    ${sc.method}`);
    out.push(textTable(scenarioTable(sc)));
    const r = ratioLine(sc);
    if (r) out.push(`  ${r}`);
    for (const n of sc.notes) out.push(`  note: ${n}`);
    for (const s of sc.servers) for (const n of s.notes) out.push(`  note (${s.server}): ${n}`);
  }
  out.push('');
  out.push(`elapsed ${res.elapsedS.toFixed(0)} s`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Markdown

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function mdTable(t: Table): string {
  const head = `| ${t.header.map(mdEscape).join(' | ')} |`;
  const sep = `|${t.right.map((r) => (r ? '---:' : '---')).join('|')}|`;
  return [head, sep, ...t.rows.map((r) => `| ${r.map(mdEscape).join(' | ')} |`)].join('\n');
}

/** One line per scenario: the headline metric for each server, and the ratios. */
function summaryTable(res: BenchResults): Table {
  const servers = ['sluice', 'node:http', 'nginx'];
  const header = ['#', 'scenario', 'metric', ...servers, 'sluice ÷ node:http', 'sluice ÷ nginx', 'other'];
  const rows: string[][] = [];
  for (const sc of res.scenarios) {
    const h = headline(sc.kind);
    const cell = (name: string) => {
      const r = sc.servers.find((s) => s.server === name || (name === 'sluice' && s.server === 'sluice --workers 1'));
      if (!r) return '–';
      if (r.status !== 'ok') return r.status;
      const v = r.summary[h.metric]?.median;
      return v === undefined ? '–' : sc.kind === 'rps' ? fmtInt(v) : v.toFixed(2);
    };
    const metric = sc.kind === 'rps' ? 'req/s' : sc.kind === 'memory' ? 'KiB/conn (lower is better)' : 's (lower is better)';
    const other = Object.entries(sc.ratios)
      .filter(([k]) => k !== 'sluice/node:http' && k !== 'sluice/nginx')
      .map(([k, v]) => `${k}: ${fmtRatio(v)}`);
    const two = sc.servers.find((s) => s.server === 'sluice --workers 2');
    if (two?.status === 'ok') other.unshift(`sluice --workers 2: ${fmtInt(two.summary[h.metric]?.median)}`);
    rows.push([sc.id, sc.title, metric, ...servers.map(cell), fmtRatio(sc.ratios['sluice/node:http']), fmtRatio(sc.ratios['sluice/nginx']), other.join(', ')]);
  }
  return { header, rows, right: [false, false, false, true, true, true, true, true, false] };
}

export function markdownReport(res: BenchResults, notes: string, chartFile: string): string {
  const m = res.machine;
  const o: string[] = [];
  o.push('# sluice benchmarks');
  o.push('');
  o.push('<!-- Regenerated by `npm run bench` (bench/run.ts). Edit only between the notes markers at the end. -->');
  o.push('');
  o.push(`Generated ${res.date} by \`npm run bench${res.mode === 'quick' ? ' -- --quick' : ''}\`: mode **${res.mode}**, ` +
    `${res.options.rounds} round(s) of ${res.options.durationS} s per server and scenario (after ${res.options.warmupS} s of warm-up), ` +
    'servers interleaved within each round; the figures are medians with the min–max over the rounds.');
  o.push('');
  o.push('## Machine');
  o.push('');
  o.push('| | |');
  o.push('|---|---|');
  o.push(`| CPU | ${m.cpu}, ${m.cores} cores |`);
  o.push(`| memory | ${m.memoryGiB} GiB |`);
  o.push(`| Node | ${m.node} |`);
  o.push(`| OS | ${m.os} |`);
  o.push(`| load generator | ${mdEscape(m.loadGenerator)} |`);
  o.push(`| nginx | ${m.nginx ?? 'not installed (skipped)'} |`);
  o.push(`| load average at start / end | ${m.loadAvg.start.toFixed(2)} / ${m.loadAvg.end.toFixed(2)}${m.loadAvg.start > 1 || m.loadAvg.end > 1.5 ? ' — **the machine was busy with other work: treat the figures with caution**' : ''} |`);
  o.push(`| pinning | ${m.taskset ? 'server on CPU 1, load generator on CPU 0 (`taskset`), except scenario 6' : 'none (`taskset` missing)'} |`);
  o.push('');
  o.push('## Summary');
  o.push('');
  o.push(mdTable(summaryTable(res)));
  o.push('');
  o.push(`![req/s per scenario and server](${chartFile})`);
  o.push('');
  o.push('## Details');
  for (const sc of res.scenarios) {
    o.push('');
    o.push(`### ${sc.id}. ${sc.title}`);
    o.push('');
    o.push(sc.method);
    o.push('');
    o.push(mdTable(scenarioTable(sc)));
    const r = ratioLine(sc);
    const extra = [...(r ? [r] : []), ...sc.notes, ...sc.servers.flatMap((s) => s.notes.map((n) => `${s.server}: ${n}`))];
    if (extra.length) {
      o.push('');
      for (const e of extra) o.push(`- ${e}`);
    }
  }
  o.push('');
  o.push('## How to run');
  o.push('');
  o.push('```sh');
  o.push('npm run bench                      # 3 rounds x 5 s, all scenarios (< 10 min); rewrites this file');
  o.push('npm run bench -- --quick           # 1 round x 2 s (< 2 min)');
  o.push('npm run bench -- --scenarios 1,2   # some scenarios only (this file is left alone)');
  o.push('npm run bench -- --duration 10     # seconds per measurement');
  o.push('npm run bench -- --smoke --out DIR # one 1 s scenario, sluice and node:http only (the test uses it)');
  o.push('```');
  o.push('');
  o.push('JSON results go to `bench/results/<timestamp>.json` and `bench/results/latest.json` (or `--out DIR`). ' +
    'Other flags: `--rounds N`, `--no-docs`, `--loadgen autocannon`, `--cli PATH` (another sluice build), `--no-nginx`. ' +
    'Needs the Debian packages `wrk` (else autocannon is used), `nginx-light` (else nginx is skipped) and `util-linux` (`taskset`).');
  o.push('');
  o.push('## Method');
  o.push('');
  o.push('- Servers: `sluice` = `node dist/src/cli.js --workers 1` (the demo site, or a folder for scenario 5); ' +
    '`node:http` = `bench/baseline-node-http.ts`, the same routes and bodies on Node\'s own HTTP stack ' +
    '(its `/work` burns the CPU with a synchronous busy loop on the event loop, no thread pool); ' +
    '`nginx` = one worker, `sendfile`, `open_file_cache`, `keepalive_requests` 10M, no access log, config generated into a temp dir.');
  o.push('- Each scenario starts fresh servers, checks every server answers the scenario\'s request with the expected status ' +
    '(compares bodies and Content-Type with node:http, notes any difference), warms each one up, then runs the rounds A B C A B C ….');
  o.push('- Scenario 4 uses `bench/sleep-client.ts` in its own process (the client\'s and the server\'s sockets count against separate fd limits): ' +
    'it opens every connection first (up to 1000 connects in progress), then writes one `GET /sleep` with `Connection: close` on all of them at once, ' +
    'so the server holds all of them at the same time; "all answered in" runs from the first request written to the last response, latency from a request\'s write to its last byte. ' +
    'The client needs about 2 s of CPU for 10,000 connections, so it, not the server, sets the pace of the connect phase. ' +
    'The server\'s RSS is sampled every 50 ms from /proc (VmRSS of the process and its children, and VmHWM at the end). ' +
    '"accept-queue overflows" is the system-wide TcpExt ListenOverflows delta during the round (SYNs dropped because an accept queue was full; each costs the client a 1 s retransmit).');
  o.push('- With pipelining, wrk\'s latency is that of a batch of 16 requests. wrk\'s coordinated-omission correction can put samples ' +
    'below the recorded minimum, where its percentile function never looks (it then reports 0, or too high a value); the harness\'s Lua ' +
    '`done()` finds the visible share and takes the percentiles within it (bench/load.ts).');
  o.push('- nginx runs without `tcp_nopush`: with it (TCP_CORK under sendfile), pipelined responses wait for the cork ' +
    '(about 40 ms per batch) and nginx fell from ~46k to ~17k req/s pipelined on this machine.');
  o.push('- Scenario 6 is not pinned (two workers need both cores); `/work?ms=20` costs 20 ms of CPU per request, so the load generator\'s own CPU use is small. ' +
    'sluice runs with `--threads 1` (one burn thread per process), so one worker is one core of work and two workers are two: ' +
    'the ideal ratio is 2×, the ceiling is 50 req/s per core. With the default thread count one worker already spreads the work over both cores, ' +
    'and because the burn loop counts wall-clock time, more threads than cores make each request cost less CPU and inflate the figure.');
  o.push('');
  o.push(NOTES_BEGIN);
  o.push(notes.trim() ? notes.trim() : DEFAULT_NOTES.trim());
  o.push(NOTES_END);
  o.push('');
  return o.join('\n');
}

/** The hand-written notes of an existing BENCHMARKS.md (between the markers), or ''. */
export function extractNotes(md: string): string {
  const a = md.indexOf(NOTES_BEGIN);
  const b = md.indexOf(NOTES_END);
  if (a === -1 || b === -1 || b < a) return '';
  return md.slice(a + NOTES_BEGIN.length, b);
}

// ---------------------------------------------------------------------------------------------
// SVG chart: one panel per scenario (its own linear scale), one bar per server with a min–max whisker.

const COLORS: Record<string, string> = {
  'sluice': '#1f6fb4',
  'sluice --workers 1': '#1f6fb4',
  'sluice --workers 2': '#0b3d75',
  'node:http': '#5f9e3f',
  'nginx': '#d9822b',
};

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function wrapText(s: string, max: number): string[] {
  const words = s.split(' ');
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && (cur + ' ' + w).length > max) { lines.push(cur); cur = w; } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines.slice(0, 2);
}

export function svgChart(res: BenchResults): string {
  const panelW = 300, panelH = 240, cols = 3, pad = 16, top = 70;
  const panels = res.scenarios;
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const W = cols * panelW + pad * 2, H = top + rows * panelH + 30;
  const s: string[] = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`);
  s.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  s.push(`<text x="${pad}" y="26" font-size="17" font-weight="bold" fill="#222">sluice vs node:http vs nginx — medians of ${res.options.rounds} round(s), whiskers: min–max</text>`);
  s.push(`<text x="${pad}" y="44" font-size="11" fill="#555">${xml(`${res.machine.cpu}, ${res.machine.cores} cores, Node ${res.machine.node}, ${res.machine.loadGenerator}, ${res.date.slice(0, 10)}. Each panel has its own scale.`)}</text>`);
  // Legend
  const all = [...new Set(panels.flatMap((p) => p.servers.map((x) => x.server)))];
  const names = all.filter((n) => !(n === 'sluice --workers 1' && all.includes('sluice')));
  let lx = pad;
  for (const n of names) {
    s.push(`<rect x="${lx}" y="52" width="11" height="11" fill="${COLORS[n] ?? '#888'}"/>`);
    s.push(`<text x="${lx + 15}" y="62" font-size="11" fill="#333">${xml(n)}</text>`);
    lx += 24 + n.length * 6.5;
  }
  panels.forEach((sc, i) => {
    const px = pad + (i % cols) * panelW, py = top + Math.floor(i / cols) * panelH;
    const h = headline(sc.kind);
    const title = wrapText(`${sc.id}. ${sc.title}`, 44);
    title.forEach((t, k) => s.push(`<text x="${px + 8}" y="${py + 16 + k * 14}" font-size="12" font-weight="bold" fill="#222">${xml(t)}</text>`));
    s.push(`<text x="${px + 8}" y="${py + 48}" font-size="10" fill="#666">${xml(h.label + (h.higherIsBetter ? ' (higher is better)' : ' (lower is better)'))}</text>`);
    const chartX = px + 14, chartY = py + 62, chartW = panelW - 34, chartH = panelH - 110;
    const vals = sc.servers.map((r) => (r.status === 'ok' ? r.summary[h.metric] : undefined));
    const maxV = Math.max(1e-9, ...vals.map((v) => (v ? v.max : 0)));
    const n = Math.max(1, sc.servers.length);
    const slot = chartW / n, bw = Math.min(56, slot * 0.6);
    s.push(`<line x1="${chartX}" y1="${chartY + chartH}" x2="${chartX + chartW}" y2="${chartY + chartH}" stroke="#999" stroke-width="1"/>`);
    sc.servers.forEach((r, k) => {
      const cx = chartX + slot * (k + 0.5);
      const v = vals[k];
      const color = COLORS[r.server] ?? '#888';
      if (v) {
        const bh = (v.median / maxV) * chartH * 0.92;
        const y = chartY + chartH - bh;
        s.push(`<rect x="${(cx - bw / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${bw.toFixed(1)}" height="${bh.toFixed(1)}" fill="${color}"><title>${xml(`${r.server}: ${v.median} (${v.min}–${v.max})`)}</title></rect>`);
        const yMin = chartY + chartH - (v.min / maxV) * chartH * 0.92, yMax = chartY + chartH - (v.max / maxV) * chartH * 0.92;
        if (v.max > v.min) {
          s.push(`<line x1="${cx}" y1="${yMin.toFixed(1)}" x2="${cx}" y2="${yMax.toFixed(1)}" stroke="#222" stroke-width="1.2"/>`);
          s.push(`<line x1="${cx - 5}" y1="${yMax.toFixed(1)}" x2="${cx + 5}" y2="${yMax.toFixed(1)}" stroke="#222" stroke-width="1.2"/>`);
          s.push(`<line x1="${cx - 5}" y1="${yMin.toFixed(1)}" x2="${cx + 5}" y2="${yMin.toFixed(1)}" stroke="#222" stroke-width="1.2"/>`);
        }
        const label = sc.kind === 'rps' ? fmtShort(v.median) : sc.kind === 'memory' ? `${v.median.toFixed(1)} KiB` : `${v.median.toFixed(2)} s`;
        s.push(`<text x="${cx}" y="${(Math.min(y, yMax) - 5).toFixed(1)}" font-size="11" text-anchor="middle" fill="#222">${xml(label)}</text>`);
      } else {
        s.push(`<text x="${cx}" y="${chartY + chartH - 6}" font-size="10" text-anchor="middle" fill="#999">${xml(r.status === 'ok' ? '–' : r.status === 'not available yet' ? 'n/a yet' : r.status)}</text>`);
      }
      const short = r.server.replace('sluice --workers ', 'sluice ×');
      s.push(`<text x="${cx}" y="${chartY + chartH + 15}" font-size="10.5" text-anchor="middle" fill="#333">${xml(short)}</text>`);
    });
    const parts: string[] = [];
    const what = sc.kind === 'sleep' ? 'time ' : '';
    if (sc.ratios['workers 2/1'] !== undefined) parts.push(`workers 2 ÷ 1: ${fmtRatio(sc.ratios['workers 2/1'])}`);
    if (sc.ratios['sluice/node:http'] !== undefined) parts.push(`${what}sluice ÷ node:http: ${fmtRatio(sc.ratios['sluice/node:http'])}`);
    if (sc.ratios['sluice/nginx'] !== undefined) parts.push(`sluice ÷ nginx: ${fmtRatio(sc.ratios['sluice/nginx'])}`);
    if (parts.length) s.push(`<text x="${px + 8}" y="${chartY + chartH + 34}" font-size="10.5" fill="#444">${xml(parts.join(', '))}</text>`);
  });
  s.push('</svg>');
  return s.join('\n') + '\n';
}

/** Rewrites docs/BENCHMARKS.md (keeping the notes) and docs/bench-chart.svg. */
export function writeDocs(res: BenchResults, docsDir: string): { md: string; svg: string } {
  fs.mkdirSync(docsDir, { recursive: true });
  const mdPath = path.join(docsDir, 'BENCHMARKS.md');
  const svgPath = path.join(docsDir, 'bench-chart.svg');
  let notes = '';
  try { notes = extractNotes(fs.readFileSync(mdPath, 'utf8')); } catch { /* first run */ }
  fs.writeFileSync(svgPath, svgChart(res));
  fs.writeFileSync(mdPath, markdownReport(res, notes, path.basename(svgPath)));
  return { md: mdPath, svg: svgPath };
}
