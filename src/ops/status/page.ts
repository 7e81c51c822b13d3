// The status page's HTML and CSS: one small page, readable on a phone, following the system's
// light or dark scheme. Its script is client.ts; its charts are uPlot's, served from the package.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>sluice status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="status/uPlot.min.css">
<style>
:root { --bg: #fafafa; --fg: #1d1d1f; --muted: #6e6e73; --card: #fff; --line: #e3e3e8; --grid: rgba(0,0,0,.08);
  --c1: #0a84ff; --c2: #30b158; --c3: #ff9f0a; --c4: #ff453a; --c5: #bf5af2; --c6: #64d2ff; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #111114; --fg: #ececf1; --muted: #9a9aa3; --card: #1c1c21; --line: #2c2c33; --grid: rgba(255,255,255,.09); }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1rem; padding: .8rem 1rem; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.1rem; margin: 0; }
header .meta { color: var(--muted); font-size: .9rem; }
#state { font-weight: 600; }
main { padding: 1rem; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); max-width: 1400px; margin: 0 auto; }
.tiles { grid-column: 1 / -1; display: grid; gap: .75rem; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); }
.tile, .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .7rem .9rem; min-width: 0; }
.tile .v { font-size: 1.6rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .k, .card h2 { color: var(--muted); font-size: .85rem; font-weight: 500; margin: 0 0 .3rem; }
.chart { width: 100%; min-height: 200px; }
.wide { grid-column: 1 / -1; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: .9rem; }
th, td { text-align: right; padding: .3rem .4rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
.scroll { overflow-x: auto; }
.text-last th:last-child, .text-last td:last-child { text-align: left; white-space: normal; }
.uplot, .u-legend { color: var(--fg); }
</style>
</head>
<body>
<header>
  <h1>sluice</h1>
  <span class="meta">version <span id="version">–</span></span>
  <span class="meta">up <span id="uptime">–</span></span>
  <span class="meta"><span id="state">–</span></span>
</header>
<main>
  <section class="tiles">
    <div class="tile"><div class="k">requests/s</div><div class="v" id="t-rps">–</div></div>
    <div class="tile"><div class="k">p50 latency</div><div class="v" id="t-p50">–</div></div>
    <div class="tile"><div class="k">p99 latency</div><div class="v" id="t-p99">–</div></div>
    <div class="tile"><div class="k">open connections</div><div class="v" id="t-open">–</div></div>
    <div class="tile"><div class="k">requests served</div><div class="v" id="t-total">–</div></div>
    <div class="tile"><div class="k">worker restarts</div><div class="v" id="t-restarts">–</div></div>
  </section>
  <section class="card"><h2>Requests per second, by status class</h2><div class="chart" id="c-rps"></div></section>
  <section class="card"><h2>Latency (ms): p50, p99</h2><div class="chart" id="c-lat"></div></section>
  <section class="card"><h2>Open connections</h2><div class="chart" id="c-open"></div></section>
  <section class="card"><h2>CPU per process (% of a core)</h2><div class="chart" id="c-cpu"></div></section>
  <section class="card wide"><h2>Processes</h2><div class="scroll"><table>
    <thead><tr><th>process</th><th>pid</th><th>CPU</th><th>RSS</th><th>loop delay p99</th><th>open conns</th></tr></thead>
    <tbody id="workers"></tbody></table></div></section>
  <section class="card wide"><h2>Worker restarts (latest)</h2><div class="scroll"><table class="text-last">
    <thead><tr><th>when</th><th>pid</th><th>what happened</th></tr></thead>
    <tbody id="restarts"></tbody></table></div></section>
  <section class="card wide"><h2>Status codes since start</h2><div class="scroll"><table>
    <thead><tr><th>code</th><th>responses</th><th>share</th></tr></thead>
    <tbody id="codes"></tbody></table></div></section>
</main>
<script src="status/uPlot.iife.min.js"></script>
<script src="status/app.js"></script>
</body>
</html>
`;
