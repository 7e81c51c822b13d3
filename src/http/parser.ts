// The request parser: bytes in, requests out. No I/O, no timers, no callbacks (h11's "sans-I/O"
// design): the connection feeds it chunks and pulls events until it needs more data. Strict by
// default: anything ambiguous is an HttpError (400 and close), because a lenient parser is how
// request smuggling happens (see shared/docs/http1-notes.md for the inputs that broke others;
// README "Strictness" lists every rule).
//
// Split independence: a malformed input gets the same status however its bytes are cut into
// reads. The head is judged by one function, parseRequestHead(bytes, limit), that decides only
// from bytes before `limit`, left to right, and never takes back a decision when more bytes come;
// it sees the first maxHeaderSize bytes at most, and 431 means "no error in those, and no end".
import { HttpError } from './errors.js';
import { FieldList, knownField } from './fields.js';
import { parseContentLength, transferCodingsError, validChunkExtensions, validHost } from './framing.js';
import { COLON, CR, FIELD_VALUE, HEX, HTAB, LF, SP, TARGET, TCHAR, trimOws } from './grammar.js';
import { latin1Slice } from './latin1.js';
import { resolveLimits, type ParserLimits, type Resolved } from './limits.js';

export { DEFAULT_LIMITS, type ParserLimits } from './limits.js';

export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;
export type BodyKind = typeof BODY_NONE | typeof BODY_LENGTH | typeof BODY_CHUNKED;

export interface RequestHead {
  method: string;
  target: string;
  path: string;
  query: string;
  minorVersion: 0 | 1;
  headers: FieldList;
  /** Whether the connection may carry another request after this one. */
  keepAlive: boolean;
  expectContinue: boolean;
  bodyKind: BodyKind;
  /** Declared length for BODY_LENGTH, else 0. */
  contentLength: number;
  /** Trailer fields of a chunked body, once the body has ended. */
  trailers: FieldList | null;
}

// Events returned by next().
/** Nothing complete in the buffer: feed more bytes. */
export const NEED_DATA = 0;
/** A request head: `parser.head`. When its bodyKind is BODY_NONE the request is complete (no END follows). */
export const HEAD = 1;
/** A piece of the body: `parser.data`. */
export const DATA = 2;
/** The body ended (trailers, if any, are in `head.trailers`). */
export const END = 3;
export type ParseEvent = typeof NEED_DATA | typeof HEAD | typeof DATA | typeof END;

const S_HEAD = 0;
const S_LENGTH = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_DATA = 3;
const S_CHUNK_END = 4;
const S_TRAILERS = 5;
const S_ERROR = 6;

/** Leading empty lines tolerated before a request-line (RFC 9112 §2.2 says at least one). */
const MAX_LEADING_EMPTY_LINES = 4;
/** Spare room of a buffer that collects an unfinished line, at least. */
const MIN_STORE = 256;

const EMPTY = Buffer.alloc(0);

export class RequestParser {
  /** The head of the request being received (valid after HEAD until the next HEAD). */
  head: RequestHead | null = null;
  /** The body piece returned with DATA (a view into a fed chunk, never overwritten later). */
  data: Buffer = EMPTY;
  /**
   * Bytes examined or copied so far, a diagnostic: it grows linearly with the input however the
   * input is split (tests check that a client sending one byte at a time costs linear work).
   */
  work = 0;

  private readonly limits: Resolved;
  /** Unparsed bytes are buf[pos, buf.length). Either a fed chunk or a window of `store`. */
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Owned buffer that collects an unfinished line across feeds (grown by doubling); buf = store[storeStart, storeEnd) when in use. */
  private store: Buffer | null = null;
  private storeStart = 0;
  private storeEnd = 0;
  private state = S_HEAD;
  /** S_HEAD / S_TRAILERS: where the unfinished line starts, relative to pos. */
  private lineStart = 0;
  /** How far the unfinished line has been scanned for its LF, relative to pos: each byte is looked at once. */
  private scanned = 0;
  private leadingEmptyLines = 0;
  /** The fast path found the head incomplete: wait for the line scanner to find its end. */
  private partial = false;
  /** Bytes of the unfinished head already judged (relative to pos). */
  private judged = 0;
  /** Where the head just parsed ends (past its empty line). */
  private headEnd = 0;
  /** Body bytes left in this Content-Length body or chunk. */
  private remaining = 0;
  private bodyReceived = 0;
  private trailers: FieldList | null = null;
  /** Bytes of complete trailer lines so far. */
  private trailerBytes = 0;
  private failure: HttpError | null = null;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.limits = resolveLimits(limits);
  }

  /** Adds received bytes. The parser keeps a reference to `chunk` (no copy) until consumed. */
  feed(chunk: Buffer): void {
    const rest = this.buf.length - this.pos;
    if (rest <= 0) {
      this.buf = chunk;
      this.pos = 0;
      this.store = null;
      return;
    }
    // An unfinished line is pending: append. Bytes go into spare room past the end of what was
    // already handed out, so DATA views stay valid, and the room doubles, so a client sending a
    // byte at a time costs linear copying, not a new concatenation per byte.
    this.work += chunk.length;
    const store = this.store;
    if (store !== null && this.storeEnd + chunk.length <= store.length) {
      chunk.copy(store, this.storeEnd);
      this.storeEnd += chunk.length;
      this.buf = store.subarray(this.storeStart, this.storeEnd);
      return;
    }
    this.work += rest;
    const grown = Buffer.allocUnsafe(Math.max(2 * (rest + chunk.length), MIN_STORE));
    this.buf.copy(grown, 0, this.pos);
    chunk.copy(grown, rest);
    this.store = grown;
    this.storeStart = 0;
    this.storeEnd = rest + chunk.length;
    this.buf = grown.subarray(0, this.storeEnd);
    this.pos = 0;
  }

  /** True when no request is in progress and no unparsed bytes are buffered. */
  get idle(): boolean {
    return this.state === S_HEAD && this.pos >= this.buf.length;
  }

  /** True while a request body is being received. */
  get inBody(): boolean {
    return this.state !== S_HEAD && this.state !== S_ERROR;
  }

  /** Unparsed bytes held. */
  get buffered(): number {
    return this.buf.length - this.pos;
  }

  /** Pulls the next event. Throws HttpError on malformed input; after that, every call throws it again. */
  next(): ParseEvent {
    switch (this.state) {
      case S_HEAD: return this.parseHead();
      case S_LENGTH: return this.lengthData();
      case S_CHUNK_SIZE: return this.chunkSize();
      case S_CHUNK_DATA: return this.chunkData();
      case S_CHUNK_END: return this.chunkEnd();
      case S_TRAILERS: return this.trailerSection();
      default: throw this.failure!;
    }
  }

  /**
   * The peer has sent its last byte. A head still unfinished is judged now on the bytes that did
   * arrive, so a truncated request gets the status it would get sent in one piece (throws that
   * HttpError) rather than one that depends on how it was split. Returns whether a request was
   * left unfinished (the caller answers that as it sees fit, e.g. 400 or a quiet close).
   */
  finish(): boolean {
    if (this.state === S_ERROR) throw this.failure!;
    const len = this.buf.length;
    if (this.state !== S_HEAD) return true;
    if (this.pos >= len) return false;
    const start = this.pos;
    const cap = start + this.limits.maxHeaderSize;
    this.judge(this.buf, start, len < cap ? len : cap, len); // (a complete head was returned by next() already)
    return true;
  }

  private fail(status: number, message: string): never {
    this.state = S_ERROR;
    this.failure = new HttpError(status, message);
    this.buf = EMPTY;
    this.store = null;
    this.pos = 0;
    throw this.failure;
  }

  private consumed(to: number): void {
    if (to >= this.buf.length) {
      this.buf = EMPTY;
      this.store = null; // an idle connection holds no buffer
      this.pos = 0;
    } else {
      this.pos = to;
    }
    this.lineStart = 0;
    this.scanned = 0;
  }

  // ---- head ---------------------------------------------------------------------------------

  private parseHead(): ParseEvent {
    const buf = this.buf;
    const len = buf.length;
    let start = this.pos;
    // Leading empty lines (CRLF) before a request-line: tolerated a few times, then refused.
    while (buf[start] === CR && buf[start + 1] === LF) {
      if (++this.leadingEmptyLines > MAX_LEADING_EMPTY_LINES) this.fail(400, 'Bad Request: empty lines before the request');
      start += 2;
    }
    if (start > this.pos) this.consumed(start);
    if (start >= len) return NEED_DATA;
    if (buf[start] === CR && start + 1 >= len) return NEED_DATA; // a CR that may begin an empty line
    const max = this.limits.maxHeaderSize;
    const cap = start + max; // the head is judged on its first maxHeaderSize bytes
    // Fast path: parse in place, in one pass, assuming the whole head is here (it nearly always
    // is). Only when it is not does the line scanner below look for its end, each byte once, so
    // a client sending byte by byte costs linear work; the head is then parsed once, complete.
    if (!this.partial) {
      const head = this.judge(buf, start, len < cap ? len : cap, len);
      if (head !== null) return head;
      this.partial = true;
      this.judged = len - start;
      this.scanned = len - start;
      this.work += len - start;
      let ls = start;
      for (let i = start; i < len; i++) if (buf[i] === LF) ls = i + 1;
      this.lineStart = ls - start;
      return NEED_DATA;
    }
    let lineStart = start + this.lineStart;
    let trigger = -1;
    this.work += len - (start + this.scanned);
    for (let i = start + this.scanned; i < len; i++) {
      if (buf[i] !== LF) continue;
      const n = i - lineStart;
      // The empty line that ends the head, or a bare LF line (an error the parse will name).
      if (n === 0 || (n === 1 && buf[lineStart] === CR)) {
        trigger = i + 1;
        break;
      }
      lineStart = i + 1;
    }
    this.lineStart = lineStart - start;
    this.scanned = len - start;
    if (trigger !== -1) {
      const head = this.judge(buf, start, trigger < cap ? trigger : cap, len);
      if (head !== null) return head;
      this.fail(400, 'Bad Request: malformed header section'); // (cannot happen: the parse sees a whole head, or 431)
    }
    // The complete lines are judged again each time they have doubled, so a slow sender's error
    // is found while it still sends (not only at the end, or at its timeout), for at most twice
    // the work. Judging complete lines only, within the first maxHeaderSize bytes, can only find
    // the error a whole judgement would find first.
    const lines = lineStart - start;
    if (lines >= 2 * this.judged && lines > 0 && lines <= max) {
      this.judged = lines;
      this.work += lines;
      this.parseRequestHead(buf, start, lineStart); // (no empty line in there: it throws or returns null)
    }
    // maxHeaderSize bytes and no end (431 unless they hold an error), or an unfinished request
    // line longer than any valid one (the parse says why): judged now, not when the end comes.
    if (len - start >= max || (lineStart === start && len - start > this.limits.maxMethodLength + this.limits.maxTargetLength + 12)) {
      const head = this.judge(buf, start, len < cap ? len : cap, len);
      if (head !== null) return head;
    }
    return NEED_DATA;
  }

  /**
   * Parses the head at buf[start, limit): the head (HEAD), or null (needs more), or throws. 431 when
   * maxHeaderSize bytes were there and judged without finding an error or the end.
   */
  private judge(buf: Buffer, start: number, limit: number, len: number): ParseEvent | null {
    this.work += limit - start;
    const head = this.parseRequestHead(buf, start, limit);
    if (head === null) {
      if (len - start >= this.limits.maxHeaderSize) this.fail(431, 'Request Header Fields Too Large');
      return null;
    }
    this.partial = false;
    this.leadingEmptyLines = 0;
    this.head = head;
    this.consumed(this.headEnd);
    if (head.bodyKind === BODY_LENGTH) {
      this.state = S_LENGTH;
      this.remaining = head.contentLength;
    } else if (head.bodyKind === BODY_CHUNKED) {
      this.state = S_CHUNK_SIZE;
      this.bodyReceived = 0;
    }
    return HEAD;
  }

  /**
   * Parses a head starting at buf[start], deciding only from bytes before `limit`. Returns null
   * when they run out before the empty line that ends it; sets this.headEnd past that line
   * otherwise. Neither CR nor LF is in any byte class scanned below, and past the buffer's end
   * buf[i] is undefined, so every loop stops by itself; what stopped it is checked after, and
   * only if it is before `limit`.
   */
  private parseRequestHead(buf: Buffer, start: number, limit: number): RequestHead | null {
    // request-line = method SP request-target SP HTTP-version CRLF
    let i = start;
    while (TCHAR[buf[i]] === 1) i++;
    if ((i < limit ? i : limit) - start > this.limits.maxMethodLength) this.fail(400, 'Bad Request: method too long');
    if (i >= limit) return null;
    if (i === start || buf[i] !== SP) this.fail(400, 'Bad Request: invalid method');
    const method = methodName(buf, start, i);
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST' && !this.limits.methods.has(method)) {
      this.fail(501, 'Not Implemented: unknown method');
    }
    // sluice is an origin server: it does not open tunnels.
    if (method === 'CONNECT') this.fail(501, 'Not Implemented: CONNECT (no tunnels here)');
    const targetStart = ++i;
    while (TARGET[buf[i]] === 1) i++;
    if ((i < limit ? i : limit) - targetStart > this.limits.maxTargetLength) this.fail(414, 'URI Too Long');
    if (i >= limit) return null;
    if (i === targetStart || buf[i] !== SP) {
      this.fail(400, buf[i] === 0x5c ? 'Bad Request: backslash in the request-target' : 'Bad Request: invalid request-target');
    }
    i++;
    if (i + 10 > limit) {
      // Not all here: fail now only if what is here already cannot become "HTTP/x.y" CRLF.
      for (let k = i; k < limit; k++) {
        const c = buf[k];
        if (k < i + 8 ? c === CR || c === LF : c !== (k === i + 8 ? CR : LF)) this.fail(400, 'Bad Request: invalid HTTP version');
      }
      return null;
    }
    const minorVersion = this.parseVersion(buf, i);
    const target = latin1Slice(buf, targetStart, i - 1);
    i += 10;

    // Request target forms (RFC 9112 §3.2). Authority-form is CONNECT's only, refused above.
    let path: string;
    let query = '';
    const c0 = target.charCodeAt(0);
    if (c0 === 0x2f /* / */) {
      const q = target.indexOf('?');
      if (q === -1) path = target;
      else { path = target.slice(0, q); query = target.slice(q + 1); }
    } else if (target === '*') {
      if (method !== 'OPTIONS') this.fail(400, 'Bad Request: asterisk-form is only for OPTIONS');
      path = '*';
    } else {
      // absolute-form: an http(s) URI (the only kind an HTTP server serves), its authority
      // checked like a Host value
      const m = /^https?:\/\/([^/?]*)/i.exec(target);
      if (m === null || m[1] === '' || !validHost(m[1])) this.fail(400, 'Bad Request: invalid request-target');
      const rest = target.slice(m[0].length);
      const q = rest.indexOf('?');
      path = q === -1 ? rest : rest.slice(0, q);
      if (path === '') path = '/';
      if (q !== -1) query = rest.slice(q + 1);
    }
    // A NUL, CR or LF decoded from the path would end a C string or split a line in whatever
    // the path reaches next (a log, a file name, a header of a proxied request).
    if (path.indexOf('%') !== -1 && /%(?:00|0[aAdD])/.test(path)) this.fail(400, 'Bad Request: encoded NUL, CR or LF in the path');

    // field-line = field-name ":" OWS field-value OWS CRLF
    const headers = new FieldList();
    let hosts = 0;
    let host = '';
    let contentLength = -1;
    let transferEncoding: string | null = null;
    let connClose = false;
    let connKeepAlive = false;
    let expectContinue = false;
    let count = 0;
    for (;;) {
      if (i >= limit) return null;
      if (buf[i] === CR) {
        if (i + 1 >= limit) return null;
        if (buf[i + 1] === LF) break; // the empty line
      }
      if (++count > this.limits.maxHeaderCount) this.fail(431, 'Request Header Fields Too Large: too many fields');
      i = this.parseFieldLine(buf, i, limit, headers);
      if (i === -1) return null;
      const value = headers.values[count - 1];
      switch (headers.lowerNames[count - 1]) {
        case 'host':
          hosts++;
          host = value;
          break;
        case 'content-length':
          if (contentLength !== -1) this.fail(400, 'Bad Request: repeated Content-Length');
          contentLength = parseContentLength(value);
          if (contentLength === -1) this.fail(400, 'Bad Request: invalid Content-Length');
          break;
        case 'transfer-encoding':
          transferEncoding = transferEncoding === null ? value : `${transferEncoding},${value}`;
          break;
        case 'connection':
          for (const token of value.toLowerCase().split(',')) {
            const t = trimOws(token);
            if (t === 'close') connClose = true;
            else if (t === 'keep-alive') connKeepAlive = true;
          }
          break;
        case 'expect':
          if (value.toLowerCase() === '100-continue') expectContinue = minorVersion === 1;
          else this.fail(417, 'Expectation Failed: only 100-continue is supported');
          break;
      }
    }

    this.headEnd = i + 2;
    if (minorVersion === 1 && hosts === 0) this.fail(400, 'Bad Request: missing Host header');
    if (hosts > 1) this.fail(400, 'Bad Request: more than one Host header');
    // Every http(s) URI has a non-empty authority, so an empty Host names nothing sluice serves.
    if (hosts === 1 && host === '') this.fail(400, 'Bad Request: empty Host header');
    if (hosts === 1 && !validHost(host)) this.fail(400, 'Bad Request: invalid Host header');

    let bodyKind: BodyKind = BODY_NONE;
    if (transferEncoding !== null) {
      if (contentLength !== -1) this.fail(400, 'Bad Request: both Content-Length and Transfer-Encoding');
      if (minorVersion === 0) this.fail(400, 'Bad Request: Transfer-Encoding in an HTTP/1.0 request');
      const bad = transferCodingsError(transferEncoding);
      if (bad !== null) this.fail(bad[0], bad[1]);
      bodyKind = BODY_CHUNKED;
    } else if (contentLength > 0) {
      if (contentLength > this.limits.maxBodySize) this.fail(413, 'Content Too Large');
      bodyKind = BODY_LENGTH;
    }

    return {
      method,
      target,
      path,
      query,
      minorVersion,
      headers,
      keepAlive: minorVersion === 1 ? !connClose : connKeepAlive && !connClose,
      expectContinue: expectContinue && bodyKind !== BODY_NONE,
      bodyKind,
      contentLength: bodyKind === BODY_LENGTH ? contentLength : 0,
      trailers: null,
    };
  }

  /** HTTP-version CRLF at buf[i, i + 10). */
  private parseVersion(buf: Buffer, i: number): 0 | 1 {
    // HTTP-version = "HTTP" "/" DIGIT "." DIGIT
    if (
      buf[i + 8] !== CR || buf[i + 9] !== LF || buf[i] !== 0x48 || buf[i + 1] !== 0x54 || buf[i + 2] !== 0x54 || buf[i + 3] !== 0x50 ||
      buf[i + 4] !== 0x2f || !isDigit(buf[i + 5]) || buf[i + 6] !== 0x2e || !isDigit(buf[i + 7])
    ) {
      this.fail(400, 'Bad Request: invalid HTTP version');
    }
    if (buf[i + 5] !== 0x31 || (buf[i + 7] !== 0x31 && buf[i + 7] !== 0x30)) this.fail(505, 'HTTP Version Not Supported');
    return buf[i + 7] === 0x31 ? 1 : 0;
  }

  /**
   * Parses the field line starting at buf[ls], appends it to `fields` and returns where the next
   * line starts, or -1 when the line runs past `limit` (not all here yet).
   */
  private parseFieldLine(buf: Buffer, ls: number, limit: number, fields: FieldList): number {
    const c0 = buf[ls];
    if (c0 === SP || c0 === HTAB) this.fail(400, 'Bad Request: obsolete line folding');
    let i = ls;
    while (TCHAR[buf[i]] === 1) i++;
    if (i >= limit) return -1;
    if (i === ls || buf[i] !== COLON) {
      const c = buf[i];
      this.fail(400, c === LF ? 'Bad Request: bare LF line ending' : c === SP || c === HTAB ? 'Bad Request: whitespace before colon in header field' : 'Bad Request: invalid header field name');
    }
    const nameEnd = i;
    i++;
    // OWS is SP and HTAB only (RFC 9110 §5.6.3): 0xA0 and other "spaces" are part of the value.
    while (buf[i] === SP || buf[i] === HTAB) i++;
    const vs = i;
    let ve = vs;
    for (;; i++) {
      const c = buf[i];
      if (FIELD_VALUE[c] !== 1) break;
      if (c !== SP && c !== HTAB) ve = i + 1;
    }
    if (i >= limit || (i + 1 >= limit && buf[i] === CR)) return -1;
    if (buf[i] !== CR || buf[i + 1] !== LF) {
      this.fail(400, buf[i] === LF ? 'Bad Request: bare LF line ending' : 'Bad Request: invalid character in header field value');
    }
    const known = knownField(buf, ls, nameEnd);
    const value = ve === vs ? '' : latin1Slice(buf, vs, ve);
    if (known !== null) fields.add(known.exact(buf, ls) ? known.canonical : latin1Slice(buf, ls, nameEnd), known.lower, value);
    else fields.add(latin1Slice(buf, ls, nameEnd), '', value); // (lower-cased only if looked up)
    return i + 2;
  }

  // ---- bodies -------------------------------------------------------------------------------

  private lengthData(): ParseEvent {
    if (this.remaining === 0) {
      this.state = S_HEAD;
      return END;
    }
    const available = this.buf.length - this.pos;
    if (available === 0) return NEED_DATA;
    const n = available < this.remaining ? available : this.remaining;
    this.data = this.buf.subarray(this.pos, this.pos + n);
    this.remaining -= n;
    this.consumed(this.pos + n);
    return DATA;
  }

  /** Finds the LF ending the line at pos, looking at each byte once across calls; -1 if not here. */
  private lineEnd(): number {
    const from = this.pos + this.scanned;
    const lf = this.buf.indexOf(LF, from);
    this.work += (lf === -1 ? this.buf.length : lf + 1) - from;
    if (lf === -1) this.scanned = this.buf.length - this.pos;
    return lf;
  }

  private chunkSize(): ParseEvent {
    // chunk-size [ chunk-ext ] CRLF
    const buf = this.buf;
    const lf = this.lineEnd();
    if (lf === -1) {
      if (buf.length - this.pos > this.limits.maxChunkLineSize) this.fail(400, 'Bad Request: chunk extension too long');
      return NEED_DATA;
    }
    if (lf - this.pos > this.limits.maxChunkLineSize) this.fail(400, 'Bad Request: chunk extension too long');
    const crAt = lf - 1;
    if (crAt < this.pos || buf[crAt] !== CR) this.fail(400, 'Bad Request: invalid chunk size line ending');
    let i = this.pos;
    let size = 0;
    while (i < crAt && HEX[buf[i]] !== 0) {
      if (i - this.pos >= 12) this.fail(400, 'Bad Request: chunk size too large');
      size = size * 16 + HEX[buf[i]] - 1;
      i++;
    }
    if (i === this.pos) this.fail(400, 'Bad Request: invalid chunk size');
    if (i < crAt && !validChunkExtensions(buf, i, crAt)) this.fail(400, 'Bad Request: invalid chunk extension');
    this.consumed(lf + 1);
    if (size === 0) {
      this.state = S_TRAILERS;
      this.trailers = null;
      this.trailerBytes = 0;
      return this.trailerSection();
    }
    this.bodyReceived += size;
    if (this.bodyReceived > this.limits.maxBodySize) this.fail(413, 'Content Too Large');
    this.remaining = size;
    this.state = S_CHUNK_DATA;
    return this.chunkData();
  }

  private chunkData(): ParseEvent {
    const available = this.buf.length - this.pos;
    if (available === 0) return NEED_DATA;
    const n = available < this.remaining ? available : this.remaining;
    this.data = this.buf.subarray(this.pos, this.pos + n);
    this.remaining -= n;
    if (this.remaining === 0) this.state = S_CHUNK_END;
    this.consumed(this.pos + n);
    return DATA;
  }

  private chunkEnd(): ParseEvent {
    const buf = this.buf;
    if (buf.length - this.pos < 1) return NEED_DATA;
    if (buf[this.pos] !== CR) this.fail(400, 'Bad Request: chunk data not followed by CRLF');
    if (buf.length - this.pos < 2) return NEED_DATA;
    if (buf[this.pos + 1] !== LF) this.fail(400, 'Bad Request: chunk data not followed by CRLF');
    this.consumed(this.pos + 2);
    this.state = S_CHUNK_SIZE;
    return this.chunkSize();
  }

  /**
   * trailer-section = *( field-line CRLF ) CRLF, bounded like the head: maxHeaderSize bytes
   * (counted across feeds, the final CRLF included) and maxHeaderCount lines, 431 beyond. Each
   * line is measured before it is parsed, so the status does not depend on how it arrived.
   */
  private trailerSection(): ParseEvent {
    const max = this.limits.maxHeaderSize;
    for (;;) {
      const buf = this.buf;
      const ls = this.pos;
      const lf = this.lineEnd();
      if (lf === -1) {
        if (this.trailerBytes + (buf.length - ls) > max) this.fail(431, 'Request Header Fields Too Large: trailers');
        return NEED_DATA;
      }
      this.trailerBytes += lf + 1 - ls;
      if (this.trailerBytes > max) this.fail(431, 'Request Header Fields Too Large: trailers');
      if (lf === ls) this.fail(400, 'Bad Request: bare LF line ending');
      if (lf === ls + 1 && buf[ls] === CR) {
        this.consumed(lf + 1);
        this.head!.trailers = this.trailers;
        this.trailers = null;
        this.state = S_HEAD;
        return END;
      }
      if (this.trailers === null) this.trailers = new FieldList();
      if (this.trailers.size >= this.limits.maxHeaderCount) this.fail(431, 'Request Header Fields Too Large: trailers');
      this.parseFieldLine(buf, ls, lf + 1, this.trailers);
      // Fields that frame a message cannot be sent as trailers (RFC 9110 §6.5.1): refused, so no
      // hop that merges trailers into the header section can be led to re-frame the message.
      const name = this.trailers.lowerNames[this.trailers.size - 1];
      if (name === 'content-length' || name === 'transfer-encoding') this.fail(400, 'Bad Request: framing field in trailers');
      this.consumed(lf + 1);
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Common methods as constant strings: no allocation for them on the hot path. */
function methodName(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  const c = buf[start];
  if (n === 3 && c === 0x47 && buf[start + 1] === 0x45 && buf[start + 2] === 0x54) return 'GET';
  if (n === 4 && c === 0x50 && buf[start + 1] === 0x4f && buf[start + 2] === 0x53 && buf[start + 3] === 0x54) return 'POST';
  if (n === 4 && c === 0x48 && buf[start + 1] === 0x45 && buf[start + 2] === 0x41 && buf[start + 3] === 0x44) return 'HEAD';
  return latin1Slice(buf, start, end);
}
