// Runs sluice's parser over an input and reduces what it made of it to an Outcome, the unit the
// fuzzer compares: between ways of splitting the input, and against Node's parser (llhttp).
import { DATA, END, HEAD, NEED_DATA, RequestParser, type ParserLimits } from '../src/http/parser.js';
import { HttpError } from '../src/http/errors.js';

export interface Message {
  method: string;
  target: string;
  /** The body, as Latin-1 text. */
  body: string;
  keepAlive: boolean;
}

export interface Outcome {
  /** Requests received completely, in order. */
  messages: Message[];
  /** How the input ended: after complete requests, in the middle of one, or with an error. */
  end: 'clean' | 'incomplete' | 'error';
  /** The error's status when end is 'error'. */
  status?: number;
  /** The error's reason (not compared between splits: only the status must not depend on them). */
  reason?: string;
  /** The parser broke its contract: threw something other than an HttpError, or looped. */
  crash?: string;
}

/** A bound on events per input: more means the parser is going round in circles. */
function eventBudget(bytes: number): number {
  return 4 * bytes + 64;
}

/** Feeds `pieces` in order, pulling every event, and says what came out. */
export function runSluice(pieces: Buffer[], limits?: Partial<ParserLimits>): Outcome {
  const p = new RequestParser(limits);
  const messages: Message[] = [];
  let cur: Message | null = null;
  let total = 0;
  for (const piece of pieces) total += piece.length;
  let budget = eventBudget(total);
  try {
    for (const piece of pieces) {
      p.feed(piece);
      for (;;) {
        if (--budget < 0) return { messages, end: 'incomplete', crash: 'too many events (a loop?)' };
        const ev = p.next();
        if (ev === NEED_DATA) break;
        if (ev === HEAD) {
          const h = p.head!;
          cur = { method: h.method, target: h.target, body: '', keepAlive: h.keepAlive };
          if (h.bodyKind === 0) { messages.push(cur); cur = null; }
        } else if (ev === DATA) {
          if (cur === null) return { messages, end: 'incomplete', crash: 'DATA outside a request' };
          cur.body += p.data.toString('latin1');
        } else if (ev === END) {
          if (cur === null) return { messages, end: 'incomplete', crash: 'END outside a request' };
          messages.push(cur);
          cur = null;
        } else {
          return { messages, end: 'incomplete', crash: `unknown event ${String(ev)}` };
        }
      }
    }
    // end of input: what a connection does when the peer closes
    if (p.finish() && cur === null && p.idle) return { messages, end: 'incomplete', crash: 'finish() says unfinished, but idle' };
  } catch (err) {
    if (err instanceof HttpError) return { messages, end: 'error', status: err.status, reason: err.message };
    return { messages, end: 'incomplete', crash: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  return { messages, end: cur !== null || !p.idle ? 'incomplete' : 'clean' };
}

/** Same outcome, ignoring reasons (only statuses must not depend on how the bytes were split). */
export function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.end !== b.end || a.status !== b.status || a.crash !== b.crash || a.messages.length !== b.messages.length) return false;
  for (let i = 0; i < a.messages.length; i++) {
    const x = a.messages[i];
    const y = b.messages[i];
    if (x.method !== y.method || x.target !== y.target || x.body !== y.body || x.keepAlive !== y.keepAlive) return false;
  }
  return true;
}

/** `bytes` cut at the given offsets (sorted, inside the input). */
export function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    if (c <= prev || c >= bytes.length) continue;
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

export function byteByByte(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(bytes.subarray(i, i + 1));
  return out;
}

export function describe(o: Outcome): string {
  const msgs = o.messages.map((m) => `${m.method} ${m.target} (${m.body.length} body bytes)`).join(', ');
  return `[${msgs}] ${o.end}${o.status ? ` ${o.status} ${o.reason ?? ''}` : ''}${o.crash ? ` CRASH ${o.crash}` : ''}`;
}
