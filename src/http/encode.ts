// Response heads: status line, the caller's fields, and the fields sluice owns (Date,
// Content-Length / Transfer-Encoding, Connection). Pure functions over strings; no I/O.
import { STATUS_CODES } from 'node:http';
import { TCHAR, trimOws } from './grammar.js';
import type { ResponseHeaders } from './types.js';

// ---- Date: formatted once per second, not once per response ---------------------------------

let dateLine = '';
let dateExpires = 0;

/** "Date: <IMF-fixdate>\r\n", cached for the current second. */
export function currentDateLine(now: number = Date.now()): string {
  if (now >= dateExpires) {
    dateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
    dateExpires = now - (now % 1000) + 1000;
  }
  return dateLine;
}

// ---- status lines ---------------------------------------------------------------------------

/**
 * Reason phrases as RFC 9110 names them (Node's STATUS_CODES still has some older names, e.g.
 * "Payload Too Large" for 413); other codes fall back to Node's table.
 */
const RFC9110_REASONS: Record<number, string> = {
  413: 'Content Too Large',
  414: 'URI Too Long',
  416: 'Range Not Satisfiable',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
};

/** The standard reason phrase of `status` ("Unknown" when it has none). */
export function reasonPhrase(status: number): string {
  return RFC9110_REASONS[status] ?? STATUS_CODES[status] ?? 'Unknown';
}

const statusLines = new Map<number, string>();

export function statusLine(status: number, reason?: string): string {
  if (reason === undefined) {
    let line = statusLines.get(status);
    if (line === undefined) {
      line = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
      statusLines.set(status, line);
    }
    return line;
  }
  // reason-phrase = *( HTAB / SP / VCHAR / obs-text ): one byte per character, no line breaks.
  if (BAD_REASON.test(reason)) throw new ResponseHeadError(`Invalid reason phrase ${JSON.stringify(reason)}: only tab, space and visible Latin-1 characters are allowed`);
  return `HTTP/1.1 ${status} ${reason}\r\n`;
}

/** Statuses whose responses never carry a body (RFC 9110 §6.4.1). */
export function statusForbidsBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

// ---- caller's fields --------------------------------------------------------------------------

/** Fields sluice manages, recognised by the caller's spelling in any case. */
const F_OTHER = 0;
const F_CONTENT_LENGTH = 1;
const F_TRANSFER_ENCODING = 2;
const F_CONNECTION = 3;
const F_DATE = 4;
const F_CONTENT_TYPE = 5;

function fieldKind(name: string): number {
  switch (name.length) {
    case 4: return name.toLowerCase() === 'date' ? F_DATE : F_OTHER;
    case 10: return name.toLowerCase() === 'connection' ? F_CONNECTION : F_OTHER;
    case 12: return name.toLowerCase() === 'content-type' ? F_CONTENT_TYPE : F_OTHER;
    case 14: return name.toLowerCase() === 'content-length' ? F_CONTENT_LENGTH : F_OTHER;
    case 17: return name.toLowerCase() === 'transfer-encoding' ? F_TRANSFER_ENCODING : F_OTHER;
    default: return F_OTHER;
  }
}

function checkName(name: string): void {
  if (name.length === 0) throw new ResponseHeadError('Invalid header name: empty');
  for (let i = 0; i < name.length; i++) {
    // (TCHAR has 256 entries: a character above U+00FF reads undefined and is refused too)
    if (TCHAR[name.charCodeAt(i)] !== 1) throw new ResponseHeadError(`Invalid header name: ${JSON.stringify(name)}`);
  }
}

/**
 * The string-to-bytes boundary of a response head. Heads are written as Latin-1, which keeps only
 * the low byte of each character: U+010D U+010A would become CR LF on the wire, a response-
 * splitting hole. So every name, value and reason phrase must round-trip through Latin-1 and
 * hold no control character but HTAB: characters above U+00FF, CR, LF, NUL and the other
 * controls are refused (as node:http does). The connection turns the error into a 500.
 */
export class ResponseHeadError extends Error {}

// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f\u0100-\uffff]/;
/** A reason phrase follows the same rule as a field value. */
const BAD_REASON = BAD_VALUE;

function checkValue(name: string, value: string): void {
  if (BAD_VALUE.test(value)) {
    throw new ResponseHeadError(`Invalid value for header ${name}: ${JSON.stringify(value)} has a control character or one outside Latin-1`);
  }
}

export interface EncodedFields {
  /** "Name: value\r\n" lines of the caller's fields, minus the ones sluice owns. */
  lines: string;
  /** The caller's Content-Length, when given (used for streams and HEAD). */
  contentLength: number;
  /** The caller gave Date. */
  hasDate: boolean;
  /** The caller asked for Connection: close. */
  close: boolean;
  /** The caller gave Content-Type. */
  hasContentType: boolean;
}

/**
 * Validates and encodes the caller's fields. Content-Length, Transfer-Encoding and Connection are
 * taken out (sluice writes them from what it knows); the caller's Content-Length is kept as a hint.
 */
export function encodeFields(headers: ResponseHeaders | undefined): EncodedFields {
  let lines = '';
  let contentLength = -1;
  let hasDate = false;
  let close = false;
  let hasContentType = false;
  if (headers !== undefined) {
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined || value === null) continue;
      checkName(name);
      switch (fieldKind(name)) {
        case F_CONTENT_LENGTH: {
          const n = Number(value);
          if (!Number.isSafeInteger(n) || n < 0) throw new ResponseHeadError(`Invalid Content-Length: ${String(value)}`);
          contentLength = n;
          continue;
        }
        case F_TRANSFER_ENCODING:
          continue; // sluice chooses the framing
        case F_CONNECTION:
          // A token list (RFC 9110 §7.6.1): "close" as a whole token, not "closed" or "x-close".
          if (String(value).split(',').some((t) => trimOws(t).toLowerCase() === 'close')) close = true;
          continue;
        case F_DATE:
          hasDate = true;
          break;
        case F_CONTENT_TYPE:
          hasContentType = true;
          break;
      }
      if (typeof value === 'string') {
        checkValue(name, value);
        lines += `${name}: ${value}\r\n`;
      } else if (typeof value === 'number') {
        lines += `${name}: ${value}\r\n`; // (digits, '.', '-', 'e', or NaN/Infinity: ASCII)
      } else {
        for (const v of value as readonly string[]) {
          const s = String(v);
          checkValue(name, s);
          lines += `${name}: ${s}\r\n`;
        }
      }
    }
  }
  return { lines, contentLength, hasDate, close, hasContentType };
}

/**
 * The plain-text body of an error sluice answers itself: it starts with the status line's own
 * reason phrase ("413 Content Too Large" → "Content Too Large: ..."), so the two always agree.
 */
export function errorBody(status: number, message: string): string {
  const reason = reasonPhrase(status);
  if (message === reason || message.startsWith(`${reason}:`)) return `${message}\n`;
  return message === '' ? `${reason}\n` : `${reason}: ${message}\n`;
}

/** A plain-text response head + body for errors raised by sluice itself (always closes). */
export function errorResponse(status: number, message: string, head: boolean): string {
  const body = errorBody(status, message);
  return (
    statusLine(status) +
    currentDateLine() +
    `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
    (head ? '' : body)
  );
}
