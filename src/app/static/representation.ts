// Answering with a representation: preconditions (RFC 9110 §13.2.2 order), then Range — one range
// → 206 with Content-Range, several → 206 multipart/byteranges, none satisfiable → 416 — then the
// 200. Synchronous: a streamed body opens its file only when the engine first reads it.
import { randomBytes } from 'node:crypto';
import type { ResponseHeaders, SluiceRequest, SluiceResponse } from '../../http/types.js';
import type { Rep } from './cache.js';
import { ifRangeMatches, matchesStrong, matchesWeak, parseHttpDate, parseRanges, UNSATISFIABLE, type ByteRange } from './conditional.js';
import { FileRangeStream } from './filestream.js';
import type { StaticConfig } from './options.js';
import { PRECONDITION_FAILED, textResponse } from './responses.js';

export function respond(cfg: StaticConfig, req: SluiceRequest, rep: Rep, isHead: boolean): SluiceResponse {
  const h = req.headers;
  const im = h.get('if-match');
  if (im !== undefined) {
    if (!matchesStrong(im, rep.etag)) return PRECONDITION_FAILED;
  } else {
    const ius = h.get('if-unmodified-since');
    if (ius !== undefined) {
      const d = parseHttpDate(ius);
      if (!Number.isNaN(d) && rep.mtimeSec > d) return PRECONDITION_FAILED;
    }
  }
  const inm = h.get('if-none-match');
  if (inm !== undefined) {
    if (matchesWeak(inm, rep.etag)) return rep.notModified;
  } else {
    const ims = h.get('if-modified-since');
    if (ims !== undefined) {
      // Not a valid HTTP-date, or a date in the future: ignored (RFC 9110 §13.1.3).
      const d = parseHttpDate(ims);
      if (!Number.isNaN(d) && rep.mtimeSec <= d && d * 1000 <= Date.now()) return rep.notModified;
    }
  }
  // Range is for GET only (§14.2): a HEAD describes the 200.
  const range = isHead ? undefined : h.get('range');
  if (range !== undefined) {
    const ifRange = h.get('if-range');
    if (ifRange === undefined || ifRangeMatches(ifRange, rep.etag, rep.mtimeSec)) {
      const r = parseRanges(range, rep.size, cfg.maxRanges);
      if (r === UNSATISFIABLE) return textResponse(416, 'Range Not Satisfiable\n', { 'Content-Range': `bytes */${rep.size}`, 'Accept-Ranges': 'bytes' });
      if (r !== null) return r.length === 1 ? partial(cfg, rep, r[0]!) : multipart(cfg, rep, r);
    }
  }
  if (rep.full !== null) return rep.full;
  if (isHead) return rep.head;
  return { status: 200, headers: rep.headers, body: fileStream(cfg, rep, 0, rep.size - 1) };
}

function partial(cfg: StaticConfig, rep: Rep, r: ByteRange): SluiceResponse {
  const headers: ResponseHeaders = { ...rep.headers, 'Content-Length': r.end - r.start + 1, 'Content-Range': `bytes ${r.start}-${r.end}/${rep.size}` };
  if (rep.body !== null) return { status: 206, headers, body: rep.body.subarray(r.start, r.end + 1) };
  return { status: 206, headers, body: fileStream(cfg, rep, r.start, r.end) };
}

/** 206 multipart/byteranges (RFC 9110 §14.6): each part with its Content-Type and Content-Range. */
function multipart(cfg: StaticConfig, rep: Rep, ranges: ByteRange[]): SluiceResponse {
  const boundary = randomBytes(12).toString('hex');
  const type = String(rep.headers['Content-Type']);
  const heads = ranges.map((r, i) => Buffer.from(
    `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${r.start}-${r.end}/${rep.size}\r\n\r\n`, 'latin1'));
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  let length = tail.length;
  for (let i = 0; i < ranges.length; i++) length += heads[i]!.length + ranges[i]!.end - ranges[i]!.start + 1;
  const headers: ResponseHeaders = { ...rep.headers, 'Content-Type': `multipart/byteranges; boundary=${boundary}`, 'Content-Length': length };
  const body = rep.body;
  if (body !== null) {
    const parts: Buffer[] = [];
    ranges.forEach((r, i) => parts.push(heads[i]!, body.subarray(r.start, r.end + 1)));
    parts.push(tail);
    return { status: 206, headers, body: Buffer.concat(parts, length) };
  }
  async function* parts(): AsyncGenerator<Buffer> {
    for (let i = 0; i < ranges.length; i++) {
      yield heads[i]!;
      const s = fileStream(cfg, rep, ranges[i]!.start, ranges[i]!.end);
      try {
        for await (const chunk of s) yield chunk as Buffer;
      } finally {
        s.destroy();
      }
    }
    yield tail;
  }
  return { status: 206, headers, body: parts() };
}

/** Bytes [start, end] of the file (opened when the engine first reads the body). */
function fileStream(cfg: StaticConfig, rep: Rep, start: number, end: number): FileRangeStream {
  const e = rep.source;
  return new FileRangeStream(e.realPath, e, start, end, cfg.highWaterMark);
}
