// The access log's line formats. Each takes one finished exchange and returns one line ending in
// "\n", pure ASCII (so its length is its size in bytes).
import type { ResponseRecord } from '../../http/connection.js';
import type { IncomingRequest } from '../../http/request.js';
import { escapeField, MAX_AGENT, MAX_REFERER, MAX_TARGET } from './escape.js';

export type LogFormat = 'combined' | 'json' | 'dev';
export const LOG_FORMATS: readonly LogFormat[] = ['combined', 'json', 'dev'];

export interface Exchange {
  req: IncomingRequest;
  record: ResponseRecord;
  /** Milliseconds from the parsed head to the response handed to the socket. */
  durationMs: number;
  /** Date.now() when it ended. */
  now: number;
  /** cluster worker id; 0 in a single process. */
  worker: number;
}

export type Formatter = (x: Exchange) => string;

/** A response answered before any request head was parsed (garbage, a header timeout...). */
export function headless(req: IncomingRequest): boolean {
  return req.method === '' || req.target === '';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** nginx's $time_local, `01/Dec/2026:19:46:32 +0000`, recomputed once a second. */
function timeLocalCache(): (now: number) => string {
  let second = -1;
  let text = '';
  return (now) => {
    const s = Math.floor(now / 1000);
    if (s !== second) {
      second = s;
      const d = new Date(s * 1000);
      const off = -d.getTimezoneOffset();
      const sign = off < 0 ? '-' : '+';
      const a = Math.abs(off);
      text = `${two(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ` +
        `${sign}${two(Math.floor(a / 60))}${two(a % 60)}`;
    }
    return text;
  };
}

const quoted = (v: string | undefined, max: number) => (v === undefined || v === '' ? '-' : escapeField(v, max));

/** "HTTP/1.1", or "HTTP/2.0" for a request that came over HTTP/2 (as nginx writes it). */
export function protocolOf(req: IncomingRequest): string {
  return (req as { _protocol?: string })._protocol ?? (req.minorVersion === 1 ? 'HTTP/1.1' : 'HTTP/1.0');
}

function requestLine(req: IncomingRequest): string {
  if (headless(req)) return '-';
  return `${escapeField(req.method, 32)} ${escapeField(req.target, MAX_TARGET)} ${protocolOf(req)}`;
}

/** nginx's default: `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`. */
export function combined(): Formatter {
  const timeLocal = timeLocalCache();
  return (x) => {
    const req = x.req;
    return `${req.remoteAddress ?? '-'} - - [${timeLocal(x.now)}] "${requestLine(req)}" ${x.record.status} ${x.record.bodyBytes} ` +
      `"${quoted(req.headers.get('referer'), MAX_REFERER)}" "${quoted(req.headers.get('user-agent'), MAX_AGENT)}"\n`;
  };
}

// JSON strings: the usual value (printable ASCII, no quote or backslash) goes in as is; anything
// else through JSON.stringify, then non-ASCII as \uXXXX, so the line stays ASCII and valid JSON.
const JSON_SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const NON_ASCII = /[\u007f-\uffff]/g;
function jsonString(v: string | undefined, max: number): string {
  if (v === undefined) return 'null';
  if (v.length > max) v = v.slice(0, max);
  if (JSON_SAFE.test(v)) return `"${v}"`;
  return JSON.stringify(v).replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** ISO 8601 UTC time with milliseconds; the part up to the second is computed once a second. */
function isoTimeCache(): (now: number) => string {
  let second = -1;
  let prefix = '';
  return (now) => {
    const s = Math.floor(now / 1000);
    if (s !== second) {
      second = s;
      prefix = new Date(s * 1000).toISOString().slice(0, 20); // "2026-12-01T20:45:19."
    }
    const ms = Math.floor(now - s * 1000);
    return `${prefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
  };
}

/** One JSON object a line, built by hand (JSON.stringify of an object costs several times more). */
export function json(): Formatter {
  const iso = isoTimeCache();
  return (x) => {
    const req = x.req;
    const none = headless(req);
    const addr = req.remoteAddress;
    return `{"time":"${iso(x.now)}","remote_addr":${jsonString(addr, 64)},` +
      `"method":${none ? 'null' : jsonString(req.method, 32)},"target":${none ? 'null' : jsonString(req.target, MAX_TARGET)},` +
      `"protocol":${none ? 'null' : `"${protocolOf(req)}"`},"status":${x.record.status},"bytes":${x.record.bodyBytes},` +
      `"duration_ms":${Math.round(x.durationMs * 1000) / 1000},"referer":${jsonString(req.headers.get('referer'), MAX_REFERER)},` +
      `"user_agent":${jsonString(req.headers.get('user-agent'), MAX_AGENT)},"worker":${x.worker},"aborted":${x.record.aborted}}\n`;
  };
}

/** For a person at a terminal: `20:45:19 GET /path 200 0.4 ms 1.2 kB`. */
export function dev(): Formatter {
  return (x) => {
    const d = new Date(x.now);
    const b = x.record.bodyBytes;
    const size = b < 1000 ? `${b} B` : b < 1e6 ? `${(b / 1e3).toFixed(1)} kB` : `${(b / 1e6).toFixed(1)} MB`;
    const what = headless(x.req) ? '(no request)' : `${escapeField(x.req.method, 32)} ${escapeField(x.req.target, 200)}`;
    return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${what} ${x.record.status}${x.record.aborted ? ' aborted' : ''} ` +
      `${x.durationMs.toFixed(1)} ms ${size}\n`;
  };
}

export function formatter(format: LogFormat): Formatter {
  return format === 'json' ? json() : format === 'dev' ? dev() : combined();
}
