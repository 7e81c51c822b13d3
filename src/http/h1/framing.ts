// Response framing as a pure function: what the request asked for and what the handler answered
// in; the head to write, how the body is delimited and whether the connection stays open out.
// No stream, no clock (the Date line is an argument), so every rule is testable on its own.
import {
  encodeFields, statusForbidsBody, statusLine, ResponseHeadError, type EncodedFields,
} from '../encode.js';
import type { ResponseBody, SluiceResponse } from '../types.js';

/** How the body that follows the head is delimited. */
export const enum Framing {
  /** No body bytes follow the head (HEAD, 204, 304). */
  None = 0,
  /** Content-Length. */
  Length = 1,
  /** Transfer-Encoding: chunked. */
  Chunked = 2,
  /** The body ends when the connection does (HTTP/1.0, length unknown). */
  Close = 3,
}

/** What the framing needs to know about the request and the connection. */
export interface ExchangeFacts {
  /** The request was HEAD: the head says what a GET would get, no body follows. */
  head: boolean;
  minorVersion: 0 | 1;
  /** The connection may stay open after this response (the request's wish and the connection's plans). */
  keepAlive: boolean;
}

export interface FramedResponse {
  status: number;
  /** The complete head, ending with the empty line: a Latin-1 string, or cached bytes. */
  head: string | Uint8Array;
  framing: Framing;
  /** The Content-Length stated (-1 when none). */
  length: number;
  keepAlive: boolean;
  /** The body to write after the head; null when none is sent (the handler's body, if any, is then to be released). */
  body: string | Uint8Array | AsyncIterable<Uint8Array | string> | null;
}

const TEXT_PLAIN = 'Content-Type: text/plain; charset=utf-8\r\n';

/**
 * Responses an app returns again and again as frozen objects (Object.freeze on the response and its
 * headers) get their status line and fields validated and encoded once, not per request.
 */
const preparedHeads = new WeakMap<SluiceResponse, PreparedHead>();

interface PreparedHead {
  /** Status line and the caller's fields, encoded. */
  prefix: string;
  fields: EncodedFields;
  /** The complete head of the common case (HTTP/1.1, kept alive, byte body), for `dateLine`. */
  bytes: Uint8Array | null;
  dateLine: string;
}

/**
 * Frames `res` for the request described by `facts`. Throws ResponseHeadError when the head
 * cannot be written as it is (bad status, a field name or value that is not a token / Latin-1
 * text): the caller answers 500 instead.
 */
export function frameResponse(facts: ExchangeFacts, res: SluiceResponse, dateLine: string): FramedResponse {
  const status = res.status ?? 200;
  const body: ResponseBody = res.body;
  const frozen = Object.isFrozen(res);
  let prepared = frozen ? preparedHeads.get(res) : undefined;
  let fields: EncodedFields;
  let prefix: string;
  if (prepared !== undefined) {
    ({ prefix, fields } = prepared);
  } else {
    if (!Number.isInteger(status) || status < 200 || status > 999) throw new ResponseHeadError(`Invalid status ${status}`);
    fields = encodeFields(res.headers);
    prefix = statusLine(status, res.reason) + fields.lines;
    if (frozen && (res.headers === undefined || Object.isFrozen(res.headers))) {
      prepared = { prefix, fields, bytes: null, dateLine: '' };
      preparedHeads.set(res, prepared);
    }
  }
  let keepAlive = facts.keepAlive && !fields.close;
  const noBody = statusForbidsBody(status);
  const sendBody = !facts.head && !noBody;

  // Fast path: a prepared response with a byte body on a kept-alive HTTP/1.1 connection. Its
  // whole head is cached as bytes and renewed when the Date line changes (once a second).
  if (prepared !== undefined && body instanceof Uint8Array && keepAlive && facts.minorVersion === 1 && !fields.hasDate && !noBody) {
    if (prepared.dateLine !== dateLine || prepared.bytes === null) {
      // (prefix was checked to be Latin-1 text, so this conversion is exact)
      prepared.bytes = Buffer.from(`${prefix}${dateLine}Content-Length: ${body.byteLength}\r\n\r\n`, 'latin1');
      prepared.dateLine = dateLine;
    }
    return { status, head: prepared.bytes, framing: sendBody ? Framing.Length : Framing.None, length: body.byteLength, keepAlive, body: sendBody ? body : null };
  }

  let s = prefix;
  if (!fields.hasDate) s += dateLine;

  let length = -1;
  let stream = false;
  if (body === undefined || body === null) length = 0;
  else if (typeof body === 'string') {
    length = Buffer.byteLength(body);
    if (!fields.hasContentType && !noBody) s += TEXT_PLAIN; // text the app did not label: UTF-8 plain text
  } else if (body instanceof Uint8Array) length = body.byteLength;
  else stream = true;

  let framing: Framing = sendBody ? Framing.Length : Framing.None;
  if (noBody) {
    if (status === 304 && fields.contentLength >= 0) s += `Content-Length: ${fields.contentLength}\r\n`;
  } else if (!stream) {
    // A HEAD answer without a body may still state the length a GET would have.
    if (facts.head && length === 0 && fields.contentLength >= 0) length = fields.contentLength;
    s += `Content-Length: ${length}\r\n`;
  } else if (fields.contentLength >= 0) {
    length = fields.contentLength;
    s += `Content-Length: ${length}\r\n`;
  } else if (facts.head) {
    // no length known and none sent
  } else if (facts.minorVersion === 1) {
    framing = Framing.Chunked;
    s += 'Transfer-Encoding: chunked\r\n';
  } else {
    framing = Framing.Close;
    keepAlive = false; // HTTP/1.0: the body ends when the connection does
  }
  if (!keepAlive) s += 'Connection: close\r\n';
  else if (facts.minorVersion === 0) s += 'Connection: keep-alive\r\n';
  return {
    status, head: s + '\r\n', framing, length, keepAlive,
    body: sendBody && body !== undefined && body !== null ? body as FramedResponse['body'] : null,
  };
}
