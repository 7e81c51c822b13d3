// The fuzzing loops, free of I/O so a test can run them: mutation (each input whole, split at
// random points, byte by byte: same outcome every way, no crash) and differential (against llhttp).
import { MALFORMED, VALID } from './corpus.js';
import { compare, type Verdict } from './compare.js';
import { judge } from './judged.js';
import type { Llhttp } from './llhttp.js';
import { cuts, mutate } from './mutate.js';
import { byteByByte, describe, runSluice, sameOutcome, splitAt } from './sluice.js';

export const SEEDS: readonly Buffer[] = [...VALID, ...MALFORMED.map((m) => m[1])].map((s) => Buffer.from(s, 'latin1'));

export interface Finding {
  kind: 'crash' | 'split' | Verdict['kind'];
  key: string;
  /** seed and index reproduce the input: mutate(SEEDS, seed, index). */
  seed: number;
  index: number;
  input: string;
  detail: string;
}

/** Inputs longer than this are not also fed byte by byte (the split at random points still runs). */
const BYTEWISE_MAX = 4096;

/** Runs mutation inputs [from, to) of `seed`; returns the findings (crashes and split dependence). */
export function mutationBatch(seed: number, from: number, to: number, progress?: (k: number) => void, run = runSluice): Finding[] {
  const findings: Finding[] = [];
  for (let k = from; k < to; k++) {
    progress?.(k);
    const input = mutate(SEEDS, seed, k);
    const whole = run([input]);
    const note = (kind: Finding['kind'], key: string, detail: string) =>
      findings.push({ kind, key, seed, index: k, input: input.toString('latin1'), detail });
    if (whole.crash) { note('crash', whole.crash, describe(whole)); continue; }
    const split = run(splitAt(input, cuts(input.length, seed, k)));
    if (!sameOutcome(whole, split)) { note(split.crash ? 'crash' : 'split', 'random split', `whole: ${describe(whole)}; split: ${describe(split)}`); continue; }
    if (input.length <= BYTEWISE_MAX) {
      const bytes = run(byteByByte(input));
      if (!sameOutcome(whole, bytes)) note(bytes.crash ? 'crash' : 'split', 'byte by byte', `whole: ${describe(whole)}; bytes: ${describe(bytes)}`);
    }
  }
  return findings;
}

export interface DiffCounts {
  inputs: number;
  same: number;
  stricter: Map<string, number>;
  /** laxer and framing verdicts by judged class id ('' = not judged: a failure). */
  judged: Map<string, number>;
  unjudged: Finding[];
}

/** Compares sluice with llhttp on inputs [from, to) of `seed`, `parallel` at a time. */
export async function differentialBatch(ll: Llhttp, seed: number, from: number, to: number, parallel = 8): Promise<DiffCounts> {
  const counts: DiffCounts = { inputs: 0, same: 0, stricter: new Map(), judged: new Map(), unjudged: [] };
  let next = from;
  const one = async (k: number) => {
    const input = mutate(SEEDS, seed, k);
    const s = runSluice([input]);
    const l = await ll.run(input);
    const v = compare(s, l);
    counts.inputs++;
    if (v.kind === 'same') counts.same++;
    else if (v.kind === 'stricter') counts.stricter.set(v.key, (counts.stricter.get(v.key) ?? 0) + 1);
    else {
      const id = judge(v, input);
      if (id !== null) counts.judged.set(id, (counts.judged.get(id) ?? 0) + 1);
      else counts.unjudged.push({ kind: v.kind, key: v.key, seed, index: k, input: input.toString('latin1'), detail: `sluice: ${describe(s)}; llhttp: ${JSON.stringify(l)}` });
    }
  };
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < to) await one(next++);
  }));
  return counts;
}
