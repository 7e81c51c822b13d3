// Request path → list of decoded path segments, refusing everything that could leave the root.
//
// The raw (still percent-encoded) path is split on "/" *before* decoding, so an encoded slash
// (%2F) or backslash (%5C) ends up inside a segment, where it is refused. Decoding happens once
// (a double-encoded "%252e%252e" is the literal name "%2e%2e", which simply does not exist), and
// strictly: "%" must be followed by two hex digits and the bytes must be valid UTF-8
// (decodeURIComponent refuses overlong forms such as %c0%ae and lone surrogates).
// Segments "." and ".." are refused outright rather than resolved: browsers and curl remove dot
// segments before sending, so only hand-made requests contain them.

/** Longest raw path accepted (Linux PATH_MAX is 4096); longer → 414. */
export const MAX_PATH_LENGTH = 4096;
/** Longest file name (in UTF-8 bytes) on common file systems; longer → 404 without touching the disk. */
export const MAX_NAME_BYTES = 255;

export interface ParsedPath {
  /** Decoded segments, empty ones ("a//b") dropped. */
  segments: string[];
  /** The path ends with "/" (or is "/"). */
  trailingSlash: boolean;
}

/**
 * Parses and checks a request path. Returns the segments, or the status to answer:
 * 400 (malformed or traversal), 404 (hidden dotfile, over-long name), 414 (over-long path).
 */
export function parsePath(raw: string, allowDotfiles: boolean): ParsedPath | 400 | 404 | 414 {
  if (raw.length > MAX_PATH_LENGTH) return 414;
  if (raw.charCodeAt(0) !== 0x2f /* / */) return 400;
  const parts = raw.split('/');
  const segments: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '') continue;
    let s = part;
    if (part.includes('%')) {
      try {
        s = decodeURIComponent(part);
      } catch {
        return 400;
      }
    }
    if (s === '.' || s === '..') return 400;
    if (s.includes('/') || s.includes('\\') || s.includes('\0')) return 400;
    if (s.length > MAX_NAME_BYTES / 3 && Buffer.byteLength(s) > MAX_NAME_BYTES) return 404;
    if (!allowDotfiles && s.charCodeAt(0) === 0x2e /* . */) return 404;
    segments.push(s);
  }
  return { segments, trailingSlash: raw.endsWith('/') };
}

/** The canonical URL path for segments ("/a%20b/c"), always a single leading slash. */
export function encodeSegments(segments: readonly string[]): string {
  let out = '';
  for (const s of segments) out += '/' + encodeURIComponent(s);
  return out === '' ? '/' : out;
}

/** Whether the last segment has no extension ("users", "a.b/c"), for single-page-app fallback. */
export function hasNoExtension(segments: readonly string[]): boolean {
  const last = segments[segments.length - 1];
  if (last === undefined) return true;
  return last.lastIndexOf('.') <= 0;
}
