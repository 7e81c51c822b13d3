// HTML directory listing (option `list`): names HTML-escaped in text, URL-encoded in links.
import { promises as fsp, type Dirent } from 'node:fs';
import path from 'node:path';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface ListingEntry {
  name: string;
  dir: boolean;
}

/** Reads a directory; dotfiles are left out unless `dotfiles`. Directories first, then by name. */
export async function readListing(dirPath: string, dotfiles: boolean): Promise<ListingEntry[]> {
  const dirents: Dirent[] = await fsp.readdir(dirPath, { withFileTypes: true });
  const out: ListingEntry[] = [];
  for (const d of dirents) {
    if (!dotfiles && d.name.startsWith('.')) continue;
    let dir = d.isDirectory();
    if (d.isSymbolicLink()) {
      try {
        dir = (await fsp.stat(path.join(dirPath, d.name))).isDirectory();
      } catch {
        continue; // dangling link: leave it out
      }
    }
    out.push({ name: d.name, dir });
  }
  out.sort((a, b) => (a.dir !== b.dir ? (a.dir ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/** The listing page for `urlPath` (decoded, ends with "/"). */
export function renderListing(urlPath: string, entries: readonly ListingEntry[]): string {
  const title = `Index of ${escapeHtml(urlPath)}`;
  let rows = '';
  if (urlPath !== '/') rows += '<li><a href="../">../</a></li>\n';
  for (const e of entries) {
    const href = encodeURIComponent(e.name) + (e.dir ? '/' : '');
    const text = escapeHtml(e.name) + (e.dir ? '/' : '');
    // "./" keeps a name such as "a:b" from being read as a URL scheme (encodeURIComponent already
    // escapes ":", this is belt and braces).
    rows += `<li><a href="./${escapeHtml(href)}">${text}</a></li>\n`;
  }
  return (
    '<!doctype html>\n<html><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width">' +
    `<title>${title}</title>` +
    '<style>body{font-family:system-ui,sans-serif;margin:2em}li{font-family:monospace;line-height:1.6}</style>' +
    `</head><body>\n<h1>${title}</h1>\n<ul>\n${rows}</ul>\n</body></html>\n`
  );
}
