// Differences from llhttp judged correct: inputs sluice accepts and llhttp refuses (or frames
// differently), each class explained in docs/FUZZING.md. Anything else is a failure.
import type { Verdict } from './compare.js';
import { METHODS } from 'node:http';
import { KNOWN_METHODS } from '../src/http/grammar.js';
import { runSluice, sameOutcome } from './sluice.js';

export interface JudgedClass {
  id: string;
  /** Whether this class covers the verdict for `input`. */
  covers(v: Verdict, input: string): boolean;
}

/** A chunk-size line whose extensions have SP/HTAB around ";" or "=". */
const CHUNK_EXT_BWS = /\r\n[0-9a-fA-F]+[ \t]*;[^\r\n]*[ \t][^\r\n]*\r\n/;

export const JUDGED: JudgedClass[] = [
  {
    // Registered WebDAV methods llhttp's fixed list lacks (VERSION-CONTROL, CHECKIN, UNCHECKOUT,
    // MKWORKSPACE, UPDATE, LABEL, BASELINE-CONTROL from RFC 3253, ORDERPATCH from RFC 3648). A
    // request's framing never depends on its method, so knowing more methods changes no framing.
    id: 'webdav-methods-llhttp-lacks',
    covers: (v, input) => {
      if (v.kind !== 'laxer' || v.key !== 'HPE_INVALID_METHOD') return false;
      const method = /^(?:\r\n)*([^ ]+) /.exec(input)?.[1] ?? '';
      return KNOWN_METHODS.includes(method) && !METHODS.includes(method);
    },
  },
  {
    // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
    // llhttp refuses the BWS (HPE_STRICT, or HPE_INVALID_CHUNK_SIZE right after the size); sluice
    // allows it, as the grammar does and as "MUST parse for such bad whitespace" (RFC 9110 §5.6.3) asks. Extensions are
    // validated and then ignored, and the size ends at the first byte that is not a hex digit,
    // so the whitespace cannot change the framing. Checked: without it, sluice reads the same.
    id: 'chunk-extension-bws',
    covers: (v, input) => {
      if (v.kind !== 'laxer' || (v.key !== 'HPE_STRICT' && v.key !== 'HPE_INVALID_CHUNK_SIZE') || !CHUNK_EXT_BWS.test(input)) return false;
      const squeezed = input.replace(/(\r\n[0-9a-fA-F]+)([^\r\n]*)(?=\r\n)/g, (_, size: string, ext: string) => size + ext.replace(/[ \t]+/g, ''));
      return sameOutcome(runSluice([Buffer.from(input, 'latin1')]), runSluice([Buffer.from(squeezed, 'latin1')]));
    },
  },
];

export function judge(v: Verdict, input: Buffer): string | null {
  const s = input.toString('latin1');
  for (const c of JUDGED) if (c.covers(v, s)) return c.id;
  return null;
}
