// The status page's script (served as /status/app.js): polls status.json once a second and
// redraws uPlot charts from the server's one-second history. Plain ES2017, no build step.
export const CLIENT_JS = String.raw`(function () {
'use strict';
var css = getComputedStyle(document.documentElement);
function color(name) { return css.getPropertyValue(name).trim(); }
var palette = ['--c1', '--c2', '--c3', '--c4', '--c5', '--c6'].map(color);
var charts = {};

function el(id) { return document.getElementById(id); }
function fmtMs(v) { return v == null ? '–' : v < 1 ? v.toFixed(2) + ' ms' : v < 100 ? v.toFixed(1) + ' ms' : Math.round(v) + ' ms'; }
function fmtNum(v) { return v >= 1e6 ? (v / 1e6).toFixed(1) + 'M' : v >= 1e4 ? (v / 1e3).toFixed(1) + 'k' : String(Math.round(v)); }
function fmtBytes(b) { return b >= 1 << 30 ? (b / (1 << 30)).toFixed(1) + ' GiB' : (b / (1 << 20)).toFixed(0) + ' MiB'; }
function fmtUptime(s) {
  var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return d ? d + 'd ' + h + 'h' : h ? h + 'h ' + m + 'm' : m + 'm ' + Math.floor(s % 60) + 's';
}

function axisNum(v) { return v >= 1e6 ? (v / 1e6) + 'M' : v >= 1e3 ? (v / 1e3) + 'k' : String(+v.toPrecision(3)); }

function chart(id, names, data) {
  var box = el(id);
  var key = names.join('|');
  var c = charts[id];
  if (c && c.key !== key) { c.plot.destroy(); c = null; }
  if (!c) {
    var axis = { stroke: color('--muted'), grid: { stroke: color('--grid') }, ticks: { stroke: color('--grid') } };
    var yAxis = Object.assign({}, axis, { size: 56, values: function (u, splits) { return splits.map(axisNum); } });
    var opts = {
      width: box.clientWidth, height: 200,
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
      axes: [axis, yAxis],
      series: [{}].concat(names.map(function (n, i) {
        return { label: n, stroke: palette[i % palette.length], width: 1.5, points: { show: false } };
      })),
    };
    c = charts[id] = { key: key, plot: new uPlot(opts, data, box) };
  } else {
    c.plot.setData(data);
  }
}

function resize() {
  Object.keys(charts).forEach(function (id) { charts[id].plot.setSize({ width: el(id).clientWidth, height: 200 }); });
}
window.addEventListener('resize', resize);

function rows(tbody, list) {
  tbody.replaceChildren.apply(tbody, list.map(function (cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (v) { var td = document.createElement('td'); td.textContent = v; tr.appendChild(td); });
    return tr;
  }));
}

function render(s) {
  var h = s.history;
  var last = h[h.length - 1];
  el('version').textContent = s.version;
  el('uptime').textContent = fmtUptime(s.uptimeSeconds);
  el('state').textContent = s.phase;
  el('t-total').textContent = fmtNum(s.requests);
  el('t-restarts').textContent = String(s.restarts);
  if (last) {
    el('t-rps').textContent = fmtNum(last.rps);
    el('t-p50').textContent = fmtMs(last.p50Ms);
    el('t-p99').textContent = fmtMs(last.p99Ms);
    el('t-open').textContent = String(last.open);
  }
  var t = h.map(function (x) { return x.t / 1000; });
  chart('c-rps', ['1xx', '2xx', '3xx', '4xx', '5xx'].slice(1), [t].concat([1, 2, 3, 4].map(function (k) { return h.map(function (x) { return x.classes[k]; }); })));
  chart('c-lat', ['p50', 'p99'], [t, h.map(function (x) { return x.p50Ms; }), h.map(function (x) { return x.p99Ms; })]);
  chart('c-open', ['open', 'queued'], [t, h.map(function (x) { return x.open; }), h.map(function (x) { return x.waiting; })]);
  var ids = last ? last.workers.map(function (w) { return w.id; }) : [];
  ids.sort(function (a, b) { return a === 'primary' ? -1 : b === 'primary' ? 1 : a - b; });
  chart('c-cpu', ids.map(function (id) { return id === 'primary' ? 'primary' : 'worker ' + id; }), [t].concat(ids.map(function (id) {
    return h.map(function (x) { var w = x.workers.find(function (w) { return w.id === id; }); return w ? w.cpuPercent : null; });
  })));
  rows(el('workers'), last ? ids.map(function (id) { return last.workers.find(function (w) { return w.id === id; }); }).map(function (w) {
    return [w.id === 'primary' ? 'primary' : 'worker ' + w.id, String(w.pid), w.cpuPercent.toFixed(0) + ' %', fmtBytes(w.rssBytes), fmtMs(w.loopP99Ms), w.id === 'primary' ? '' : String(w.open)];
  }) : []);
  rows(el('restarts'), s.recentRestarts.length ? s.recentRestarts.slice().reverse().map(function (r) {
    return [new Date(r.t).toLocaleTimeString(), String(r.pid), r.how];
  }) : [['none', '', '']]);
  var total = s.requests || 1;
  rows(el('codes'), s.codes.map(function (c) { return [String(c[0]), fmtNum(c[1]), (100 * c[1] / total).toFixed(1) + ' %']; }));
}

function poll() {
  fetch('status.json', { cache: 'no-store' })
    .then(function (r) { if (!r.ok) throw new Error('status.json: ' + r.status); return r.json(); })
    .then(render, function () { el('state').textContent = 'unreachable'; })
    .finally(function () { setTimeout(poll, 1000); });
}
poll();
})();
`;
