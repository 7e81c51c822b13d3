// A patch over one weakness of Node's round-robin cluster (SCHED_RR), leaning on its internals.
//
// Under RR the primary accepts a connection and sends its handle to a worker (an internal
// 'NODE_CLUSTER' message with act 'newconn' and a `seq` the worker acks), keeping its own copy
// open until the ack. If the worker dies (SIGKILL, crash) with a hand-off in flight, the ack never
// comes and Node keeps that copy forever: the client hangs with no answer and the primary leaks
// the descriptor. So we note the hand-offs sent to each worker and, once its IPC channel is gone
// or it has exited (no ack can come any more), close the ones still unacked: the client sees the
// connection fail at once, like the dead worker's other connections.
//
// Feature detection: the patch needs the worker's ChildProcess to have `send` and emit
// 'internalMessage', and the messages to have the shape above. Missing methods: nothing is
// installed. A 'newconn' message of another shape: the patch turns itself off and logs once
// (fallback: Node's own behaviour, a hang for the few connections in flight to a worker that
// dies). test/cluster-internals.test.ts fails if the shape changes.
import type { Worker } from 'node:cluster';

/** What the patch saw, process-wide (for the test that guards the assumptions). */
export const handoffStats = { newconn: 0, acked: 0, orphansClosed: 0, shapeMismatch: 0 };

let disabled = false;
let warn: (line: string) => void = (line) => console.error(line);

/** Where a shape mismatch is reported (default console.error). */
export function setHandoffPatchLog(log: (line: string) => void): void {
  warn = log;
}

interface InternalProc {
  send: (message: unknown, handle?: unknown, ...rest: unknown[]) => boolean;
  on(event: 'internalMessage', listener: (message: unknown) => void): void;
  once(event: 'disconnect', listener: () => void): void;
  connected: boolean;
}

function isInternalProc(p: unknown): p is InternalProc {
  const q = p as Partial<InternalProc> | null;
  return !!q && typeof q.send === 'function' && typeof q.on === 'function' && typeof q.once === 'function';
}

/** Installs the patch on one worker's ChildProcess. Returns false when it could not be installed. */
export function closeOrphanedHandoffs(w: Worker): boolean {
  const proc: unknown = w.process;
  if (disabled || !isInternalProc(proc)) return false;
  const pending = new Map<number, { close(): void }>();
  const send = proc.send;
  proc.send = function (this: unknown, message: unknown, handle?: unknown, ...rest: unknown[]) {
    const m = message as { cmd?: unknown; act?: unknown; seq?: unknown } | null;
    if (!disabled && m && m.cmd === 'NODE_CLUSTER' && m.act === 'newconn') {
      if (typeof m.seq === 'number' && handle && typeof (handle as { close?: unknown }).close === 'function') {
        handoffStats.newconn++;
        pending.set(m.seq, handle as { close(): void });
      } else {
        handoffStats.shapeMismatch++;
        disabled = true;
        warn("sluice: Node's cluster hand-off messages have changed shape; connections in flight to a worker that dies are no longer closed by sluice");
      }
    }
    return send.call(this, message, handle, ...rest);
  };
  proc.on('internalMessage', (message) => {
    const m = message as { cmd?: unknown; ack?: unknown } | null;
    if (m && m.cmd === 'NODE_CLUSTER' && typeof m.ack === 'number' && pending.delete(m.ack)) handoffStats.acked++;
  });
  const closePending = () => {
    for (const handle of pending.values()) {
      try { handle.close(); handoffStats.orphansClosed++; } catch { /* already closed */ }
    }
    pending.clear();
  };
  proc.once('disconnect', closePending);
  // 'disconnect' never comes when the channel dies with a handle awaiting its NODE_HANDLE_ACK
  // (child_process postpones it until that ack, which a dead process never sends), so the exit
  // counts too: once the channel is down every ack that was sent has been read.
  w.once('exit', () => {
    if (!proc.connected) closePending();
    else setTimeout(closePending, 1000).unref();
  });
  return true;
}
