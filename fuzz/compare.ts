// Differential judgement: sluice's outcome against llhttp's for the same bytes. Only the first
// request is compared (the rest of a connection depends on what the server does with it), and a
// request node:http hands over for a tunnel or upgrade counts as accepted.
import type { LlhttpOutcome } from './llhttp.js';
import type { Outcome } from './sluice.js';

export type Verdict =
  | { kind: 'same' }
  /** sluice refuses what llhttp takes: stricter (by rule, README "Strictness"). Keyed by sluice's reason. */
  | { kind: 'stricter'; key: string }
  /** sluice takes what llhttp refuses: each must be a judged class (docs/FUZZING.md). Keyed by llhttp's error. */
  | { kind: 'laxer'; key: string }
  /** Both take it, but not as the same request (method, target or body): a framing disagreement. */
  | { kind: 'framing'; key: string };

function first(o: { messages: { method: string; target: string; body: string }[] }) {
  return o.messages.length > 0 ? o.messages[0] : null;
}

export function compare(s: Outcome, l: LlhttpOutcome): Verdict {
  const sm = first(s);
  const lm = first(l);
  if (sm !== null && lm !== null) {
    if (sm.method === lm.method && sm.target === lm.target && sm.body === lm.body) return { kind: 'same' };
    return { kind: 'framing', key: sm.method !== lm.method ? 'method' : sm.target !== lm.target ? 'target' : 'body' };
  }
  if (sm !== null) {
    // llhttp waiting for more where sluice has a whole request is a framing question too
    return l.end === 'error' ? { kind: 'laxer', key: l.code ?? 'error' } : { kind: 'framing', key: `llhttp ${l.end}` };
  }
  if (lm !== null) {
    return s.end === 'error' ? { kind: 'stricter', key: `${s.status} ${s.reason}` } : { kind: 'framing', key: `sluice ${s.end}` };
  }
  return { kind: 'same' }; // neither produced a request: both refused, or both wait for more
}
