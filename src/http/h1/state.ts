// The connection's life as explicit states, h11-style: one small enum for the reading side, one
// for the writing side, one per exchange (request + response), each with a table of the
// transitions allowed. Every change of state goes through `move`, which checks the table: a
// wrong combination (the kind of bug a pile of booleans invites) is caught where it happens.

/** What the reading side does with the bytes that arrive. */
export const enum Read {
  /** Expecting (or parsing) a request head. */
  Head = 0,
  /** A request body is arriving for the request being received. */
  Body = 1,
  /** The last request was complete and nothing else is expected; the connection can close cleanly. */
  Done = 2,
  /** Input is read and dropped (after an error, an unread body, or bytes after the last request): linger before closing. */
  Discard = 3,
  /** The peer ended its side: nothing more will arrive. */
  Eof = 4,
  /** The stream is gone. */
  Closed = 5,
}

/** What the writing side is doing. */
export const enum Write {
  /** Writing whole responses as they become ready (or waiting for the next one). */
  Open = 0,
  /** A response body is streaming out; later responses wait. */
  Streaming = 1,
  /** Our last response is written and end() called: waiting for the bytes to leave ('finish'). */
  Ending = 2,
  /** Our side is finished; the stream is kept only to drain unread input (lingering close). */
  Finished = 3,
  /** The stream is gone. */
  Closed = 4,
}

/** Where one exchange is. */
export const enum Exchange {
  /** The handler has the request; no response yet. */
  Handling = 0,
  /** A response (the handler's, or an error that replaced it) waits for its turn to be written. */
  Ready = 1,
  /** Its body is streaming out. */
  Writing = 2,
  /** Written in full, or abandoned; its resources are released. */
  Done = 3,
}

/** The 100-continue promise of a request that carries `Expect: 100-continue`. */
export const enum Continue {
  /** No Expect: 100-continue (or the body is complete). */
  None = 0,
  /** The client waits for 100 before sending the body; nobody asked for the body yet. */
  Awaited = 1,
  /** The handler wants the body: 100 goes out when this request's turn to write comes. */
  Due = 2,
  /** 100 was written. */
  Sent = 3,
  /** The final response went out first: the client will not send the body as announced. */
  Refused = 4,
}

type Table = readonly (readonly number[])[];

/** READ[from] = the states reachable from `from`. */
export const READ_TRANSITIONS: Table = [
  /* Head    */ [Read.Body, Read.Done, Read.Discard, Read.Eof, Read.Closed],
  /* Body    */ [Read.Head, Read.Done, Read.Discard, Read.Eof, Read.Closed],
  /* Done    */ [Read.Discard, Read.Eof, Read.Closed],
  /* Discard */ [Read.Eof, Read.Closed],
  /* Eof     */ [Read.Closed],
  /* Closed  */ [],
];

export const WRITE_TRANSITIONS: Table = [
  /* Open      */ [Write.Streaming, Write.Ending, Write.Closed],
  /* Streaming */ [Write.Open, Write.Closed],
  /* Ending    */ [Write.Finished, Write.Closed],
  /* Finished  */ [Write.Closed],
  /* Closed    */ [],
];

export const EXCHANGE_TRANSITIONS: Table = [
  /* Handling */ [Exchange.Ready, Exchange.Done],
  /* Ready    */ [Exchange.Writing, Exchange.Done],
  /* Writing  */ [Exchange.Done],
  /* Done     */ [],
];

export const CONTINUE_TRANSITIONS: Table = [
  /* None     */ [],
  /* Awaited  */ [Continue.None, Continue.Due, Continue.Sent, Continue.Refused],
  /* Due      */ [Continue.None, Continue.Sent, Continue.Refused],
  /* Sent     */ [],
  /* Refused  */ [],
];

export const READ_NAMES = ['Head', 'Body', 'Done', 'Discard', 'Eof', 'Closed'] as const;
export const WRITE_NAMES = ['Open', 'Streaming', 'Ending', 'Finished', 'Closed'] as const;
export const EXCHANGE_NAMES = ['Handling', 'Ready', 'Writing', 'Done'] as const;
export const CONTINUE_NAMES = ['None', 'Awaited', 'Due', 'Sent', 'Refused'] as const;

export class IllegalTransition extends Error {}

/** Observes every transition made (tests record them and check each against the tables). */
export type TransitionObserver = (machine: 'read' | 'write' | 'exchange' | 'continue', from: number, to: number) => void;
let observer: TransitionObserver | null = null;
/** Illegal transitions throw when strict (tests); otherwise they are reported and the connection is cut. */
let strict = false;

export function observeTransitions(fn: TransitionObserver | null, strictMode = fn !== null): void {
  observer = fn;
  strict = strictMode;
}

/**
 * Checks `from → to` against `table`. Returns false (and the caller cuts the connection) for an
 * illegal one outside strict mode: a bug in sluice must not crash the process serving everyone else.
 */
export function move(machine: 'read' | 'write' | 'exchange' | 'continue', table: Table, from: number, to: number): boolean {
  if (observer !== null) observer(machine, from, to);
  if (from === to || table[from]!.includes(to)) return true;
  const names = machine === 'read' ? READ_NAMES : machine === 'write' ? WRITE_NAMES : machine === 'exchange' ? EXCHANGE_NAMES : CONTINUE_NAMES;
  const err = new IllegalTransition(`illegal ${machine} transition ${names[from]} → ${names[to]}`);
  if (strict) throw err;
  lastIllegal = err;
  return false;
}

/** The last illegal transition seen outside strict mode (for the connection to report). */
export let lastIllegal: IllegalTransition | null = null;
