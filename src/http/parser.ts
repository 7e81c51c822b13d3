// The request parser: bytes in, requests out. No I/O, no timers, no callbacks (h11's "sans-I/O"
// design): the connection feeds it chunks and pulls events until it needs more data. Strict by
// default: anything ambiguous is an HttpError (400 and close), because a lenient parser is how
// request smuggling happens (see shared/docs/http1-notes.md for the inputs that broke others).
import { HttpError } from './errors.js';
import { FieldList } from './fields.js';
import { COLON, CR, FIELD_VALUE, HEX, HOST, HTAB, LF, QDTEXT, SP, TARGET, TCHAR } from './grammar.js';

export interface ParserLimits {
  /** Bytes of request line + header section (and, separately, of a trailer section). 431 beyond. */
  maxHeaderSize: number;
  /** Header field lines per request. 431 beyond. */
  maxHeaderCount: number;
  /** Bytes of the request-target. 414 beyond. */
  maxTargetLength: number;
  /** Bytes of a request body (declared or received). 413 beyond. */
  maxBodySize: number;
  /** Bytes of a chunk-size line (size + extensions). 400 beyond. */
  maxChunkLineSize: number;
}

export const DEFAULT_LIMITS: ParserLimits = {
  maxHeaderSize: 16 * 1024,
  maxHeaderCount: 100,
  maxTargetLength: 8 * 1024,
  maxBodySize: 1024 * 1024,
  maxChunkLineSize: 4 * 1024,
};

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
/** Content-Length digits: 15 keep the value an exact integer (< 2^53). */
const MAX_LENGTH_DIGITS = 15;

const EMPTY = Buffer.alloc(0);

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

export class RequestParser {
  /** The head of the request being received (valid after HEAD until the next HEAD). */
  head: RequestHead | null = null;
  /** The body piece returned with DATA (a view into the fed chunk: copy it to keep it past the next feed). */
  data: Buffer = EMPTY;

  private readonly limits: ParserLimits;
  private buf: Latin1Buffer = EMPTY as Latin1Buffer;
  private pos = 0;
  private state = S_HEAD;
  /** S_HEAD / S_TRAILERS: where the unfinished line starts, relative to pos, so a slow sender costs O(n). */
  private lineScan = 0;
  private leadingEmptyLines = 0;
  /** The fast path found the head incomplete: wait for the line scanner to find its end. */
  private partial = false;
  /** Where the head just parsed ends (past its empty line). */
  private headEnd = 0;
  /** Body bytes left in this Content-Length body or chunk. */
  private remaining = 0;
  private bodyReceived = 0;
  private trailers: FieldList | null = null;
  private failure: HttpError | null = null;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.limits = resolveLimits(limits);
  }

  /** Adds received bytes. The parser keeps a reference to `chunk` (no copy) until consumed. */
  feed(chunk: Buffer): void {
    if (this.pos >= this.buf.length) {
      this.buf = chunk as Latin1Buffer;
      this.pos = 0;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]) as Latin1Buffer;
      this.pos = 0;
    }
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

  private fail(status: number, message: string): never {
    this.state = S_ERROR;
    this.failure = new HttpError(status, message);
    this.buf = EMPTY as Latin1Buffer;
    this.pos = 0;
    throw this.failure;
  }

  private consumed(to: number): void {
    this.pos = to;
    if (to >= this.buf.length) {
      this.buf = EMPTY as Latin1Buffer;
      this.pos = 0;
    }
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
      this.pos = start;
    }
    // Fast path: parse in place, in one pass, assuming the whole head is here (it nearly always
    // is). Only when it is not does the line scanner below look for its end, resuming where the
    // last call stopped, so a client sending byte by byte costs linear work; the head is then
    // parsed once, complete.
    if (buf[start] === CR && start + 1 >= len) return NEED_DATA; // a CR that may begin an empty line
    let head: RequestHead | null = null;
    if (!this.partial) {
      head = this.parseRequestHead(buf, start, len);
      if (head !== null) return this.headParsed(head, start);
      this.partial = true;
    }
    let end = -1;
    let lineStart = start + this.lineScan;
    for (let i = lineStart; i < len; i++) {
      if (buf[i] !== LF) continue;
      const n = i - lineStart;
      if (n === 0) this.fail(400, 'Bad Request: bare LF line ending');
      if (n === 1 && buf[lineStart] === CR) {
        end = i; // (leading empty lines were skipped above, so this one ends the head)
        break;
      }
      lineStart = i + 1;
    }
    if (end === -1) {
      if (start >= len) {
        this.consumed(len);
        this.lineScan = 0;
        return NEED_DATA;
      }
      this.lineScan = lineStart - start;
      const pending = len - start;
      if (lineStart === start && pending > this.limits.maxTargetLength + 32) this.fail(414, 'URI Too Long');
      if (pending > this.limits.maxHeaderSize) this.fail(431, 'Request Header Fields Too Large');
      return NEED_DATA;
    }
    head = this.parseRequestHead(buf, start, end + 1); // (headParsed checks the size)
    if (head === null) this.fail(400, 'Bad Request: malformed header section'); // (cannot happen: the head is complete)
    return this.headParsed(head, start);
  }

  /** A head was parsed from buf[start, this.headEnd). */
  private headParsed(head: RequestHead, start: number): ParseEvent {
    if (this.headEnd - start > this.limits.maxHeaderSize) this.fail(431, 'Request Header Fields Too Large');
    this.lineScan = 0;
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
   * Parses a head starting at buf[start], reading no further than `limit`. Returns null when the
   * bytes run out before the empty line that ends it; sets this.headEnd past that line otherwise.
   * Neither CR nor LF is in any byte class scanned below, and past the buffer's end buf[i] is
   * undefined, so every loop stops by itself; what stopped it is checked after.
   */
  private parseRequestHead(buf: Latin1Buffer, start: number, limit: number): RequestHead | null {
    // request-line = method SP request-target SP HTTP-version CRLF
    let i = start;
    while (TCHAR[buf[i]] === 1) i++;
    if (i >= limit) return null;
    if (i === start || buf[i] !== SP) this.fail(400, 'Bad Request: invalid method');
    const method = methodName(buf, start, i);
    const targetStart = ++i;
    while (TARGET[buf[i]] === 1) i++;
    if (i - targetStart > this.limits.maxTargetLength) this.fail(414, 'URI Too Long');
    if (i >= limit) return null;
    if (i === targetStart || buf[i] !== SP) this.fail(400, 'Bad Request: invalid request-target');
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
    const target = buf.latin1Slice(targetStart, i - 1);
    i += 10;

    // Request target forms (RFC 9112 §3.2).
    let path: string;
    let query = '';
    const c0 = target.charCodeAt(0);
    if (c0 === 0x2f /* / */) {
      const q = target.indexOf('?');
      if (q === -1) path = target;
      else { path = target.slice(0, q); query = target.slice(q + 1); }
    } else if (method === 'CONNECT') {
      path = target; // authority-form
    } else if (target === '*') {
      if (method !== 'OPTIONS') this.fail(400, 'Bad Request: asterisk-form is only for OPTIONS');
      path = '*';
    } else {
      const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/.exec(target);
      if (m === null) this.fail(400, 'Bad Request: invalid request-target');
      const rest = target.slice(m[0].length);
      const q = rest.indexOf('?');
      path = q === -1 ? rest : rest.slice(0, q);
      if (path === '') path = '/';
      if (q !== -1) query = rest.slice(q + 1);
    }

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
      if (i + 1 >= limit) return null;
      if (buf[i] === CR && buf[i + 1] === LF) break; // the empty line
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
            const t = token.trim();
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
    if (hosts === 1 && !validHost(host)) this.fail(400, 'Bad Request: invalid Host header');

    let bodyKind: BodyKind = BODY_NONE;
    if (transferEncoding !== null) {
      if (contentLength !== -1) this.fail(400, 'Bad Request: both Content-Length and Transfer-Encoding');
      if (minorVersion === 0) this.fail(400, 'Bad Request: Transfer-Encoding in an HTTP/1.0 request');
      this.checkTransferCodings(transferEncoding);
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
  private parseVersion(buf: Latin1Buffer, i: number): 0 | 1 {
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
  private parseFieldLine(buf: Latin1Buffer, ls: number, limit: number, fields: FieldList): number {
    const c0 = buf[ls];
    if (c0 === SP || c0 === HTAB) this.fail(400, 'Bad Request: obsolete line folding');
    let i = ls;
    while (TCHAR[buf[i]] === 1) i++;
    if (i >= limit) return -1;
    if (i === ls || buf[i] !== COLON) {
      this.fail(400, buf[i] === SP || buf[i] === HTAB ? 'Bad Request: whitespace before colon in header field' : 'Bad Request: invalid header field name');
    }
    const nameEnd = i;
    i++;
    while (buf[i] === SP || buf[i] === HTAB) i++;
    const vs = i;
    let ve = vs;
    for (;; i++) {
      const c = buf[i];
      if (FIELD_VALUE[c] !== 1) break;
      if (c !== SP && c !== HTAB) ve = i + 1;
    }
    if (i + 1 >= limit && buf[i] !== LF) return -1;
    if (buf[i] !== CR || buf[i + 1] !== LF) {
      this.fail(400, buf[i] === LF ? 'Bad Request: bare LF line ending' : 'Bad Request: invalid character in header field value');
    }
    const known = knownField(buf, ls, nameEnd);
    if (known !== null) {
      fields.add(known.exact(buf, ls) ? known.canonical : buf.latin1Slice(ls, nameEnd), known.lower, ve === vs ? '' : buf.latin1Slice(vs, ve));
    } else {
      const name = buf.latin1Slice(ls, nameEnd);
      fields.add(name, name.toLowerCase(), ve === vs ? '' : buf.latin1Slice(vs, ve));
    }
    return i + 2;
  }

  private checkTransferCodings(value: string): void {
    const codings = value.split(',');
    for (let k = 0; k < codings.length; k++) {
      const coding = codings[k].trim().toLowerCase();
      if (coding === '' || !isToken(coding.split(';')[0].trim())) this.fail(400, 'Bad Request: invalid Transfer-Encoding');
      const last = k === codings.length - 1;
      if (coding === 'chunked') {
        if (!last) this.fail(400, 'Bad Request: chunked must be the final transfer coding, once');
      } else if (last) {
        this.fail(400, 'Bad Request: the final transfer coding must be chunked');
      } else {
        this.fail(501, `Not Implemented: transfer coding "${coding}"`);
      }
    }
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

  private chunkSize(): ParseEvent {
    // chunk-size [ chunk-ext ] CRLF
    const buf = this.buf;
    const lf = buf.indexOf(LF, this.pos);
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
    if (i < crAt) this.checkChunkExtensions(buf, i, crAt);
    this.consumed(lf + 1);
    if (size === 0) {
      this.state = S_TRAILERS;
      this.trailers = null;
      this.lineScan = 0;
      return this.trailerSection();
    }
    this.bodyReceived += size;
    if (this.bodyReceived > this.limits.maxBodySize) this.fail(413, 'Content Too Large');
    this.remaining = size;
    this.state = S_CHUNK_DATA;
    return this.chunkData();
  }

  /** chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), validated, then ignored. */
  private checkChunkExtensions(buf: Buffer, i: number, end: number): void {
    const bad = (): never => this.fail(400, 'Bad Request: invalid chunk extension');
    const ws = () => { while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++; };
    while (i < end) {
      ws();
      if (buf[i] !== 0x3b /* ; */) bad();
      i++;
      ws();
      const ns = i;
      while (i < end && TCHAR[buf[i]] === 1) i++;
      if (i === ns) bad();
      ws();
      if (i < end && buf[i] === 0x3d /* = */) {
        i++;
        ws();
        if (buf[i] === 0x22 /* " */) {
          i++;
          for (;;) {
            if (i >= end) bad();
            const c = buf[i];
            if (c === 0x22) { i++; break; }
            if (c === 0x5c /* \ */) {
              const q = buf[i + 1];
              if (i + 1 >= end || !(q === HTAB || q === SP || (q >= 0x21 && q !== 0x7f))) bad();
              i += 2;
            } else if (QDTEXT[c] === 1) i++;
            else bad();
          }
        } else {
          const vs = i;
          while (i < end && TCHAR[buf[i]] === 1) i++;
          if (i === vs) bad();
        }
      }
    }
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

  /** trailer-section = *( field-line CRLF ) CRLF */
  private trailerSection(): ParseEvent {
    const buf = this.buf;
    let ls = this.pos;
    for (;;) {
      const lf = buf.indexOf(LF, ls);
      if (lf === -1) {
        if (buf.length - this.pos > this.limits.maxHeaderSize) this.fail(431, 'Request Header Fields Too Large: trailers');
        this.consumed(ls); // complete trailer lines are parsed already; keep the partial one
        return NEED_DATA;
      }
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
      this.parseFieldLine(buf, ls, buf.length, this.trailers);
      ls = lf + 1;
    }
  }
}

/** Options objects are shared by every connection of a server: resolve each once. */
const resolvedLimits = new WeakMap<Partial<ParserLimits>, ParserLimits>();

function resolveLimits(limits: Partial<ParserLimits>): ParserLimits {
  let l = resolvedLimits.get(limits);
  if (l === undefined) {
    l = { ...DEFAULT_LIMITS };
    for (const k of Object.keys(l) as (keyof ParserLimits)[]) {
      const v = limits[k];
      if (v !== undefined) l[k] = v; // an option left undefined keeps its default
    }
    resolvedLimits.set(limits, l);
  }
  return l;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** 1*DIGIT, at most 15 digits; -1 when invalid. */
function parseContentLength(v: string): number {
  const n = v.length;
  if (n === 0 || n > MAX_LENGTH_DIGITS) return -1;
  let x = 0;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    x = x * 10 + (c - 0x30);
  }
  return x;
}

function validHost(v: string): boolean {
  for (let i = 0; i < v.length; i++) if (HOST[v.charCodeAt(i)] !== 1) return false;
  return true;
}

/** Common methods as constant strings: no allocation for them on the hot path. */
function methodName(buf: Latin1Buffer, start: number, end: number): string {
  const n = end - start;
  const c = buf[start];
  if (n === 3 && c === 0x47 && buf[start + 1] === 0x45 && buf[start + 2] === 0x54) return 'GET';
  if (n === 4 && c === 0x50 && buf[start + 1] === 0x4f && buf[start + 2] === 0x53 && buf[start + 3] === 0x54) return 'POST';
  if (n === 4 && c === 0x48 && buf[start + 1] === 0x45 && buf[start + 2] === 0x41 && buf[start + 3] === 0x44) return 'HEAD';
  return buf.latin1Slice(start, end);
}

/** A field name clients send often: matched on the bytes, so no string is built to look it up. */
class KnownField {
  readonly lower: string;
  readonly canonical: string;
  private readonly lowerBytes: Uint8Array;
  private readonly canonicalBytes: Uint8Array;

  constructor(canonical: string) {
    this.canonical = canonical;
    this.lower = canonical.toLowerCase();
    this.lowerBytes = Buffer.from(this.lower, 'latin1');
    this.canonicalBytes = Buffer.from(canonical, 'latin1');
  }

  /** Case-insensitive match of buf[start, start + length). (ASCII letters, digits and "-": OR 0x20 lower-cases letters and keeps the rest.) */
  matches(buf: Uint8Array, start: number): boolean {
    const l = this.lowerBytes;
    for (let j = 0; j < l.length; j++) if ((buf[start + j] | 0x20) !== l[j]) return false;
    return true;
  }

  /** Whether the name was sent in its usual spelling, so the constant can stand for it. */
  exact(buf: Uint8Array, start: number): boolean {
    const c = this.canonicalBytes;
    for (let j = 0; j < c.length; j++) if (buf[start + j] !== c[j]) return false;
    return true;
  }
}

const KNOWN_FIELDS: KnownField[][] = [];
for (const name of [
  'Host', 'User-Agent', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Connection', 'Content-Length',
  'Content-Type', 'Transfer-Encoding', 'Cookie', 'Referer', 'Origin', 'Cache-Control', 'Pragma', 'Range',
  'If-None-Match', 'If-Modified-Since', 'If-Range', 'Authorization', 'Upgrade', 'Expect', 'X-Forwarded-For',
]) {
  (KNOWN_FIELDS[name.length] ??= []).push(new KnownField(name));
}

function knownField(buf: Uint8Array, start: number, end: number): KnownField | null {
  const candidates = KNOWN_FIELDS[end - start];
  if (candidates === undefined) return null;
  for (let k = 0; k < candidates.length; k++) if (candidates[k].matches(buf, start)) return candidates[k];
  return null;
}
