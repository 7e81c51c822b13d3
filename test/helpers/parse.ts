// Running the parser in tests: feed pieces, collect complete requests or the error, and check
// that an input gives the same result whole, split at every position, and byte by byte.
import assert from 'node:assert/strict';
import { DATA, END, HEAD, NEED_DATA, RequestParser, type ParserLimits } from '../../src/http/parser.js';
import { HttpError } from '../../src/http/errors.js';

export interface Parsed {
  method: string;
  target: string;
  path: string;
  query: string;
  minor: number;
  headers: [string, string][];
  keepAlive: boolean;
  expectContinue: boolean;
  body: string;
  trailers: [string, string][];
}

export type Outcome = { requests: Parsed[]; error?: { status: number; message: string } };

/** Feeds `pieces` one after another and collects every complete request, or the error. */
export function run(pieces: Buffer[], limits?: Partial<ParserLimits>): Outcome {
  const p = new RequestParser(limits);
  const requests: Parsed[] = [];
  let cur: Parsed | null = null;
  try {
    for (const piece of pieces) {
      p.feed(piece);
      for (;;) {
        const ev = p.next();
        if (ev === NEED_DATA) break;
        if (ev === HEAD) {
          const h = p.head!;
          cur = {
            method: h.method, target: h.target, path: h.path, query: h.query, minor: h.minorVersion,
            headers: [...h.headers.entries()], keepAlive: h.keepAlive, expectContinue: h.expectContinue, body: '', trailers: [],
          };
          if (h.bodyKind === 0) { requests.push(cur); cur = null; }
        } else if (ev === DATA) {
          cur!.body += p.data.toString('latin1');
        } else if (ev === END) {
          cur!.trailers = p.head!.trailers ? [...p.head!.trailers.entries()] : [];
          requests.push(cur!);
          cur = null;
        }
      }
    }
    p.finish(); // end of input: a truncated head is judged as if sent whole
  } catch (err) {
    assert.ok(err instanceof HttpError, `expected HttpError, got ${String(err)}`);
    return { requests, error: { status: err.status, message: err.message } };
  }
  return { requests };
}

/** Parses `input` whole, then split in two at every position, then one byte at a time; all must agree. */
export function parseAllWays(input: string, limits?: Partial<ParserLimits>): Outcome {
  const bytes = Buffer.from(input, 'latin1');
  const whole = run([bytes], limits);
  for (let i = 1; i < bytes.length; i++) {
    const split = run([bytes.subarray(0, i), bytes.subarray(i)], limits);
    assert.deepEqual(split, whole, `split at byte ${i} differs from whole for ${JSON.stringify(input)}`);
  }
  const single = run([...bytes].map((b) => Buffer.from([b])), limits);
  assert.deepEqual(single, whole, `byte-at-a-time differs for ${JSON.stringify(input)}`);
  return whole;
}

export function expectError(input: string, status: number, limits?: Partial<ParserLimits>): Outcome {
  const out = parseAllWays(input, limits);
  assert.ok(out.error, `expected ${status} for ${JSON.stringify(input)}, got ${JSON.stringify(out.requests)}`);
  assert.equal(out.error.status, status, `status for ${JSON.stringify(input)}: ${out.error.message}`);
  return out;
}
