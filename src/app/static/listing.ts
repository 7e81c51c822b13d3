// Reading a folder for its listing (option `list`): names, kinds, sizes and modification times.
// Dotfiles are left out unless `dotfiles`; so are symlinks that lead out of the root or nowhere
// (they would only 404), and anything that is neither a file nor a folder.
import { promises as fsp, type Dirent } from 'node:fs';
import path from 'node:path';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface ListingEntry {
  name: string;
  dir: boolean;
  /** Bytes (0 for folders). */
  size: number;
  mtimeMs: number;
}

/** Stats run in batches of this many, so a huge folder does not open the thread pool's floodgates. */
const BATCH = 64;

export async function readListing(dirPath: string, dotfiles: boolean, inside: (real: string) => boolean): Promise<ListingEntry[]> {
  const dirents: Dirent[] = await fsp.readdir(dirPath, { withFileTypes: true });
  const wanted = dirents.filter((d) => dotfiles || !d.name.startsWith('.'));
  const out: ListingEntry[] = [];
  for (let i = 0; i < wanted.length; i += BATCH) {
    const batch = await Promise.all(wanted.slice(i, i + BATCH).map((d) => describe(dirPath, d, inside)));
    for (const e of batch) if (e !== null) out.push(e);
  }
  return out;
}

async function describe(dirPath: string, d: Dirent, inside: (real: string) => boolean): Promise<ListingEntry | null> {
  const p = path.join(dirPath, d.name);
  try {
    if (d.isSymbolicLink() && !inside(await fsp.realpath(p))) return null;
    const st = await fsp.stat(p);
    if (!st.isFile() && !st.isDirectory()) return null;
    return { name: d.name, dir: st.isDirectory(), size: st.isDirectory() ? 0 : st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null; // dangling link, or gone meanwhile
  }
}

export type SortKey = 'name' | 'size' | 'mtime';

// As people expect names sorted: case-insensitive, "file2" before "file10".
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Folders first, then by `key` (ties by name), ascending or not. */
export function sortListing(entries: ListingEntry[], key: SortKey, ascending: boolean): ListingEntry[] {
  const byName = (a: ListingEntry, b: ListingEntry) => collator.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const cmp = key === 'size' ? (a: ListingEntry, b: ListingEntry) => a.size - b.size || byName(a, b)
    : key === 'mtime' ? (a: ListingEntry, b: ListingEntry) => a.mtimeMs - b.mtimeMs || byName(a, b)
    : byName;
  return entries.sort((a, b) => (a.dir !== b.dir ? (a.dir ? -1 : 1) : ascending ? cmp(a, b) : cmp(b, a)));
}
