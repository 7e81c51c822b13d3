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

/** Characters allowed in a request-target: visible ASCII only (no SP, controls, DEL or raw non-ASCII). '#' is not part of a request-target. */
export const TARGET = table((c) => c >= 0x21 && c <= 0x7e && c !== 0x23);

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
