// Where a serving process is in its life, as a load balancer or an orchestrator should see it.
// One per process that owns the public port's fate: the single process, or the cluster primary.
// The readiness endpoint reads it; shutdown moves it along. The phases only go forward.

export type Phase = 'starting' | 'serving' | 'draining' | 'stopped';

/** The transitions allowed from each phase (anything else is a bug in the caller). */
const NEXT: Readonly<Record<Phase, readonly Phase[]>> = {
  starting: ['serving', 'draining', 'stopped'],
  serving: ['draining', 'stopped'],
  draining: ['stopped'],
  stopped: [],
};

export class Lifecycle {
  private current: Phase = 'starting';
  private readonly listeners: Array<(phase: Phase) => void> = [];
  /** Workers listening now, under a cluster primary; null in a single process. */
  workersUp: number | null = null;

  get phase(): Phase {
    return this.current;
  }

  /** Send traffic here: serving, and (under a primary) at least one worker up. */
  get ready(): boolean {
    return this.current === 'serving' && (this.workersUp === null || this.workersUp > 0);
  }

  /** Why the process is not ready, for the readiness endpoint's body ("" when ready). */
  get notReadyReason(): string {
    if (this.current !== 'serving') return this.current;
    return this.workersUp === 0 ? 'no worker is up' : '';
  }

  /** Moves to `next`; moving to the current phase again is a no-op. Throws on a backward move. */
  to(next: Phase): void {
    if (next === this.current) return;
    if (!NEXT[this.current].includes(next)) throw new Error(`lifecycle: ${this.current} → ${next} is not allowed`);
    this.current = next;
    for (const fn of this.listeners) fn(next);
  }

  onChange(fn: (phase: Phase) => void): void {
    this.listeners.push(fn);
  }
}
