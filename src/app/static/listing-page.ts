// The listing as a response: an HTML page for people (a table with breadcrumbs, sortable by
// column through the query string — no script, no external assets, dark-mode and phone aware) or
// JSON for scripts (`?format=json`, or an Accept that asks for JSON rather than HTML).
// Names are HTML-escaped in text and percent-encoded in links; links are absolute (prefix + path).
import type { SluiceRequest, SluiceResponse } from '../../http/types.js';
import { escapeHtml, sortListing, type ListingEntry, type SortKey } from './listing.js';

export function listingResponse(req: SluiceRequest, prefix: string, segments: readonly string[], entries: ListingEntry[]): SluiceResponse {
  const q = new URLSearchParams(req.query);
  const sortParam = q.get('sort');
  const key: SortKey = sortParam === 'size' || sortParam === 'mtime' ? sortParam : 'name';
  const ascending = q.get('order') !== 'desc';
  sortListing(entries, key, ascending);
  const base = prefix + segments.map((s) => '/' + encodeURIComponent(s)).join('') + '/';
  const accept = req.headers.get('accept') ?? '';
  const json = q.get('format') === 'json' || (accept.includes('application/json') && !accept.includes('text/html'));
  const headers = { 'Cache-Control': 'no-cache', Vary: 'Accept' };
  if (json) {
    const body = JSON.stringify({
      path: '/' + segments.map((s) => s + '/').join(''),
      entries: entries.map((e) => ({
        name: e.name,
        type: e.dir ? 'directory' : 'file',
        size: e.size,
        mtime: new Date(e.mtimeMs).toISOString(),
        url: base + encodeURIComponent(e.name) + (e.dir ? '/' : ''),
      })),
    }, null, 2) + '\n';
    return { status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers }, body };
  }
  return { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8', ...headers }, body: renderListing(prefix, segments, entries, key, ascending) };
}

/** "1.5 kB" style sizes (powers of 1000, as file managers show). */
export function humanSize(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = -1;
  do { v /= 1000; i++; } while (v >= 1000 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

const STYLE = `:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#fff;--line:#d1d9e0;--hover:#f6f8fa;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--line:#30363d;--hover:#161b22;--link:#4493f8}}
*{box-sizing:border-box}body{margin:0 auto;max-width:60rem;padding:1rem;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.25rem;font-weight:600;margin:.5rem 0 1rem;word-break:break-word}h1 a{color:var(--link);text-decoration:none}h1 a:hover{text-decoration:underline}
table{width:100%;border-collapse:collapse}th,td{padding:.45rem .5rem;border-bottom:1px solid var(--line);text-align:left}
th{font-weight:600;white-space:nowrap}th a{color:var(--fg);text-decoration:none}th a:hover{color:var(--link)}
td.name{word-break:break-word}td.name a{color:var(--link);text-decoration:none}td.name a:hover{text-decoration:underline}
td.size,th.size{text-align:right;white-space:nowrap}td.mtime{white-space:nowrap;color:var(--muted)}td.size{color:var(--muted)}
tbody tr:hover{background:var(--hover)}.icon{display:inline-block;width:1em;height:1em;margin-right:.45em;vertical-align:-.12em;background:no-repeat center/contain}
.icon.d{background-image:url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath fill='%2354aeff' d='M1 3.5A1.5 1.5 0 0 1 2.5 2h3.6l1.5 1.5h5.9A1.5 1.5 0 0 1 15 5v7.5a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 1 12.5z'/%3E%3C/svg%3E")}
.icon.f{background-image:url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath fill='%238c959f' d='M3 1.5A1.5 1.5 0 0 1 4.5 0h5L14 4.5v10a1.5 1.5 0 0 1-1.5 1.5h-8A1.5 1.5 0 0 1 3 14.5z'/%3E%3Cpath fill='%23d1d9e0' d='M9.5 0v3A1.5 1.5 0 0 0 11 4.5h3z'/%3E%3C/svg%3E")}
.icon.up{background-image:url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath fill='none' stroke='%238c959f' stroke-width='1.6' d='M6 4 2.5 7.5 6 11M3 7.5h6.5a4 4 0 0 1 4 4V14'/%3E%3C/svg%3E")}
footer{margin-top:1rem;color:var(--muted);font-size:.85rem}
@media (max-width:34rem){body{padding:.5rem;font-size:14px}th.mtime,td.mtime{display:none}}`;

export function renderListing(prefix: string, segments: readonly string[], entries: readonly ListingEntry[], key: SortKey = 'name', ascending = true): string {
  const shown = '/' + segments.map((s) => s + '/').join('');
  const title = `Index of ${escapeHtml(shown)}`;
  // Breadcrumbs: every ancestor folder is a link.
  let href = prefix + '/';
  let crumbs = `<a href="${escapeHtml(href)}">/</a>`;
  for (const s of segments) {
    href += encodeURIComponent(s) + '/';
    crumbs += `<a href="${escapeHtml(href)}">${escapeHtml(s)}/</a>`;
  }
  const base = href;
  const sortLink = (k: SortKey, label: string) => {
    const order = k === key && ascending ? 'desc' : 'asc';
    const mark = k === key ? (ascending ? ' ▲' : ' ▼') : '';
    const aria = k === key ? ` aria-sort="${ascending ? 'ascending' : 'descending'}"` : '';
    return `<th class="${k}"${aria}><a href="?sort=${k}&amp;order=${order}">${label}${mark}</a></th>`;
  };
  let rows = '';
  if (segments.length > 0) {
    const parent = prefix + segments.slice(0, -1).map((s) => '/' + encodeURIComponent(s)).join('') + '/';
    rows += `<tr><td class="name"><span class="icon up"></span><a href="${escapeHtml(parent)}">../</a></td><td class="size"></td><td class="mtime"></td></tr>\n`;
  }
  for (const e of entries) {
    const link = base + encodeURIComponent(e.name) + (e.dir ? '/' : '');
    const text = escapeHtml(e.name) + (e.dir ? '/' : '');
    const when = new Date(e.mtimeMs).toISOString();
    rows += `<tr><td class="name"><span class="icon ${e.dir ? 'd' : 'f'}"></span><a href="${escapeHtml(link)}">${text}</a></td>` +
      `<td class="size"${e.dir ? '' : ` title="${e.size} bytes"`}>${e.dir ? '—' : humanSize(e.size)}</td>` +
      `<td class="mtime"><time datetime="${when}">${isoMinute(e.mtimeMs)}</time></td></tr>\n`;
  }
  const count = entries.length === 0 ? 'Empty folder' : `${entries.length} item${entries.length === 1 ? '' : 's'}`;
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">' +
    `<title>${title}</title><style>${STYLE}</style></head><body>\n` +
    `<h1>Index of <nav aria-label="breadcrumbs" style="display:inline">${crumbs}</nav></h1>\n` +
    `<table><thead><tr>${sortLink('name', 'Name')}${sortLink('size', 'Size')}${sortLink('mtime', 'Modified (UTC)')}</tr></thead>\n<tbody>\n${rows}</tbody></table>\n` +
    `<footer>${count} · served by sluice</footer>\n</body></html>\n`
  );
}
