// The messages between the primary and its workers (over cluster's IPC channel), one type each,
// with guards: a worker or primary of another version may send anything.

/**
 * Primary -> worker: drain and exit (see worker.ts). `quiesce`: the port is going away (not a
 * rolling restart): hold new connections until the socket can close with nothing queued, report
 * 'sluice:closed', and serve the held ones on 'sluice:release'.
 */
export interface DrainMessage { cmd: 'sluice:drain'; deadlineMs: number; quiesce?: boolean }
/** Worker -> primary: my listening socket is closed. */
export interface ClosedMessage { cmd: 'sluice:closed' }
/** Primary -> worker: every worker's listening socket is closed; serve what you hold. */
export interface ReleaseMessage { cmd: 'sluice:release' }
/** Worker -> primary: the server listens. With a listening-socket handle attached under reusePort (see listen-mode.ts). */
export interface ListeningMessage { cmd: 'sluice:listening'; address: string; port: number; inherited?: boolean }
/** Worker -> primary: send me the listening socket of my slot. */
export interface WantListenerMessage { cmd: 'sluice:want-listener' }
/** Primary -> worker: here it is (the handle travels with the message; none when the slot has none). */
export interface ListenerMessage { cmd: 'sluice:listener' }

const hasCmd = (m: unknown, cmd: string): boolean =>
  typeof m === 'object' && m !== null && (m as { cmd?: unknown }).cmd === cmd;

export function isDrainMessage(m: unknown): m is DrainMessage {
  return hasCmd(m, 'sluice:drain');
}
export function isClosedMessage(m: unknown): m is ClosedMessage {
  return hasCmd(m, 'sluice:closed');
}
export function isReleaseMessage(m: unknown): m is ReleaseMessage {
  return hasCmd(m, 'sluice:release');
}
export function isListeningMessage(m: unknown): m is ListeningMessage {
  return hasCmd(m, 'sluice:listening') && typeof (m as ListeningMessage).port === 'number';
}
export function isWantListenerMessage(m: unknown): m is WantListenerMessage {
  return hasCmd(m, 'sluice:want-listener');
}
export function isListenerMessage(m: unknown): m is ListenerMessage {
  return hasCmd(m, 'sluice:listener');
}

/** A listening socket's handle as child_process passes it ('net.Native'): the primary only holds and forwards it. */
export interface SocketHandle { close(): void; fd?: number }
export function isSocketHandle(h: unknown): h is SocketHandle {
  return typeof h === 'object' && h !== null && typeof (h as SocketHandle).close === 'function';
}
