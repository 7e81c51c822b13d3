// Making request data safe to put in a log line. nginx's convention: `"`, `\`, control bytes and
// bytes outside printable ASCII become \xHH, so a line cannot be split, forged or garbled by what
// a client sent. Fields are capped so every line stays well under PIPE_BUF (see sink.ts).

const SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const HEX = Array.from({ length: 256 }, (_, b) => `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`);

/** `s` with unsafe bytes as \xHH (characters beyond Latin-1 as their UTF-8 bytes), at most `max` chars. */
export function escapeField(s: string, max: number): string {
  if (s.length <= max && SAFE.test(s)) return s; // the usual case: nothing to do
  let out = '';
  for (let i = 0; i < s.length && out.length < max; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) out += s[i];
    else if (c < 0x100) out += HEX[c];
    else {
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += HEX[b];
    }
  }
  return out.length > max ? out.slice(0, max) : out;
}

/** Field caps: request target, referer, user agent. Together with the fixed fields, a line < 4 KiB. */
export const MAX_TARGET = 2048;
export const MAX_REFERER = 512;
export const MAX_AGENT = 512;

const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/g;

/** Free text (an error message, a stack line): only control characters (tab aside) as \xHH, at most `max` chars. */
export function escapeControls(s: string, max: number): string {
  const out = s.replace(CONTROL, (c) => HEX[c.charCodeAt(0)]!);
  return out.length > max ? out.slice(0, max) : out;
}
