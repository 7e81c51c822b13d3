// Byte classes from RFC 9110/9112's ABNF, as lookup tables (h11 keeps its grammar in one module too).

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}

const isAlpha = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
export const TCHAR = table((c) => isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/** field-vchar / SP / HTAB: VCHAR (0x21-0x7E), obs-text (0x80-0xFF), SP, HTAB. No other controls, no DEL. */
export const FIELD_VALUE = table((c) => c === 0x09 || c === 0x20 || (c >= 0x21 && c <= 0x7e) || c >= 0x80);

/**
 * Characters allowed in a request-target: visible ASCII only (no SP, controls, DEL or raw
 * non-ASCII). '#' is not part of a request-target. A backslash is not a URI character either, and
 * some servers and proxies read it as "/" (so "/a\..\b" means different paths to different hops).
 */
export const TARGET = table((c) => c >= 0x21 && c <= 0x7e && c !== 0x23 && c !== 0x5c);

/** Host field value: reg-name / IPv4 / IP-literal chars plus ":" port. unreserved / pct-encoded / sub-delims / ":" / "[" / "]". */
export const HOST = table((c) => isAlpha(c) || isDigit(c) || "-._~%!$&'()*+,;=:[]".includes(String.fromCharCode(c)));

/** Hex digit value + 1 (0 = not a hex digit). */
export const HEX = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    if (isDigit(c)) t[c] = c - 0x30 + 1;
    else if (c >= 0x41 && c <= 0x46) t[c] = c - 0x41 + 11;
    else if (c >= 0x61 && c <= 0x66) t[c] = c - 0x61 + 11;
  }
  return t;
})();

/** qdtext / quoted-pair content for quoted-string: HTAB / SP / VCHAR except DQUOTE and backslash / obs-text. */
export const QDTEXT = table((c) => c === 0x09 || c === 0x20 || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80);

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;

/**
 * Removes optional whitespace (OWS = SP / HTAB, RFC 9110 §5.6.3) from both ends, and nothing else:
 * String.prototype.trim() also strips U+00A0 and other Unicode spaces, and byte 0xA0 becomes U+00A0
 * when a field value is read as Latin-1, so trim() would turn "\xa0chunked" into "chunked".
 */
export function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === SP || s.charCodeAt(a) === HTAB)) a++;
  while (b > a && (s.charCodeAt(b - 1) === SP || s.charCodeAt(b - 1) === HTAB)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** 1*tchar */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/**
 * Methods sluice knows (anything else is 501; names are case-sensitive, RFC 9110 §9.1):
 * RFC 9110's, PATCH (RFC 5789), and WebDAV's: RFC 4918 and its extensions (versioning RFC 3253,
 * ordering RFC 3648, ACL RFC 3744, CalDAV RFC 4791, SEARCH RFC 5323, bindings RFC 5842).
 * CONNECT is known but not served: sluice does not tunnel (501).
 */
export const KNOWN_METHODS: readonly string[] = [
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE',
  'PATCH',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK',
  'VERSION-CONTROL', 'REPORT', 'CHECKOUT', 'CHECKIN', 'UNCHECKOUT', 'MKWORKSPACE', 'UPDATE', 'LABEL', 'MERGE',
  'BASELINE-CONTROL', 'MKACTIVITY', 'ORDERPATCH', 'ACL', 'MKCALENDAR', 'SEARCH', 'BIND', 'REBIND', 'UNBIND',
];

/** Longest method accepted before the name is judged (400 beyond, not 414: that is for the target). */
export const MAX_METHOD_LENGTH = 32;
