// Checks of single framing elements, as pure functions over strings and bytes: the
// Transfer-Encoding list, chunk extensions, Content-Length, Host. The parser turns their verdicts
// into errors.
import { HOST, HTAB, isToken, QDTEXT, SP, TCHAR, trimOws } from './grammar.js';

/** Content-Length digits: 15 keep the value an exact integer (< 2^53). */
const MAX_LENGTH_DIGITS = 15;

/**
 * transfer-coding list: "chunked" must come last, once; any other coding is 501. Empty list
 * elements are legal (RFC 9110 §5.6.1) and skipped before the last one (",chunked"), but the
 * last element itself must be "chunked": after "chunked," a hop that does not skip empty
 * elements sees a final coding that is not chunked, frames the body differently, and llhttp
 * refuses it too. OWS is SP/HTAB only. Returns null when the list is acceptable.
 */
export function transferCodingsError(value: string): [status: number, reason: string] | null {
  const codings = value.toLowerCase().split(',');
  const last = codings.length - 1;
  for (let k = 0; k <= last; k++) {
    const coding = trimOws(codings[k]);
    if (coding === '') {
      if (k === last) return [400, 'Bad Request: the final transfer coding must be chunked'];
      continue;
    }
    const semi = coding.indexOf(';');
    if (!isToken(semi === -1 ? coding : trimOws(coding.slice(0, semi)))) return [400, 'Bad Request: invalid Transfer-Encoding'];
    if (coding === 'chunked') {
      if (k !== last) return [400, 'Bad Request: chunked must be the final transfer coding, once'];
    } else if (k === last) {
      return [400, 'Bad Request: the final transfer coding must be chunked'];
    } else {
      return [501, 'Not Implemented: transfer coding'];
    }
  }
  return null;
}

/** Whether buf[i, end) is chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (validated, then ignored). */
export function validChunkExtensions(buf: Buffer, i: number, end: number): boolean {
  const ws = () => { while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++; };
  while (i < end) {
    ws();
    if (buf[i] !== 0x3b /* ; */) return false;
    i++;
    ws();
    const ns = i;
    while (i < end && TCHAR[buf[i]] === 1) i++;
    if (i === ns) return false;
    ws();
    if (i < end && buf[i] === 0x3d /* = */) {
      i++;
      ws();
      if (buf[i] === 0x22 /* " */) {
        i++;
        for (;;) {
          if (i >= end) return false;
          const c = buf[i];
          if (c === 0x22) { i++; break; }
          if (c === 0x5c /* \ */) {
            const q = buf[i + 1];
            if (i + 1 >= end || !(q === HTAB || q === SP || (q >= 0x21 && q !== 0x7f))) return false;
            i += 2;
          } else if (QDTEXT[c] === 1) i++;
          else return false;
        }
      } else {
        const vs = i;
        while (i < end && TCHAR[buf[i]] === 1) i++;
        if (i === vs) return false;
      }
    }
  }
  return true;
}


/** 1*DIGIT, at most 15 digits, no leading zero (parsers disagree on "007"); -1 when invalid. */
export function parseContentLength(v: string): number {
  const n = v.length;
  if (n === 0 || n > MAX_LENGTH_DIGITS || (n > 1 && v.charCodeAt(0) === 0x30)) return -1;
  let x = 0;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    x = x * 10 + (c - 0x30);
  }
  return x;
}

export function validHost(v: string): boolean {
  for (let i = 0; i < v.length; i++) if (HOST[v.charCodeAt(i)] !== 1) return false;
  return true;
}
