// The static handler's fixed responses, and what a file-system error means for the client.
//
// "Not found" is only what the file system says about the name: ENOENT, ENOTDIR, ELOOP, EACCES,
// ENAMETOOLONG. Anything else (EMFILE/ENFILE when the process is out of descriptors, EIO, ENOMEM…)
// says nothing about the file, so the client gets a 503 with Retry-After and `no-store`, never a
// 404 that a cache could keep.
import type { ResponseHeaders, SluiceResponse } from '../../http/types.js';

export function textResponse(status: number, text: string, extra: ResponseHeaders = {}): SluiceResponse {
  const body = Buffer.from(text);
  return Object.freeze({
    status,
    headers: Object.freeze({ 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, ...extra }),
    body,
  });
}

export const ALLOW = 'GET, HEAD, OPTIONS';
export const BAD_REQUEST = textResponse(400, 'Bad Request\n');
export const NOT_FOUND = textResponse(404, 'Not Found\n');
export const METHOD_NOT_ALLOWED = textResponse(405, 'Method Not Allowed\n', { Allow: ALLOW });
export const PRECONDITION_FAILED = textResponse(412, 'Precondition Failed\n');
export const URI_TOO_LONG = textResponse(414, 'URI Too Long\n');
export const SERVICE_UNAVAILABLE = textResponse(503, 'Service Unavailable\n', { 'Retry-After': 1, 'Cache-Control': 'no-store' });
/** OPTIONS (a path or "*"): what this handler allows; RFC 9110 §9.3.7 wants Content-Length: 0. */
export const OPTIONS_OK: SluiceResponse = Object.freeze({ status: 200, headers: Object.freeze({ Allow: ALLOW, 'Content-Length': 0 }), body: null });

/** A folder without an index file while listing is off: say how to get one (never list it). */
export const NO_INDEX = textResponse(404, 'Not Found\n\nThis folder has no index file, and directory listing is off ' +
  '(turn it on with `sluice --list`, or the `list` option of serveStatic).\n');

const MISSING = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'EPERM', 'ENAMETOOLONG']);

/** Whether an fs error means "no such file for this name" (else the server is the problem). */
export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code !== undefined && MISSING.has(code);
}

/** A file-system failure that is not "not found": the request gets a 503. */
export class FsUnavailable extends Error {
  constructor(readonly op: string, readonly target: string, override readonly cause: unknown) {
    super(`${op} ${target}: ${(cause as NodeJS.ErrnoException)?.code ?? String(cause)}`);
  }
}

/** Rethrows `err` as FsUnavailable unless it is a "not found" error (then returns undefined). */
export function missingOrThrow(op: string, target: string, err: unknown): undefined {
  if (isMissing(err)) return undefined;
  throw new FsUnavailable(op, target, err);
}
