// Differences from llhttp judged correct: inputs sluice accepts and llhttp refuses (or frames
// differently), each class explained in docs/FUZZING.md. Anything else is a failure.
import type { Verdict } from './compare.js';

export interface JudgedClass {
  id: string;
  /** Whether this class covers the verdict for `input`. */
  covers(v: Verdict, input: string): boolean;
}

export const JUDGED: JudgedClass[] = [];

export function judge(v: Verdict, input: Buffer): string | null {
  const s = input.toString('latin1');
  for (const c of JUDGED) if (c.covers(v, s)) return c.id;
  return null;
}
