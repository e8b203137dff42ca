// Time is passed in, never read from the wall inside the core, so tests and sped-up demos
// control it.

export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/**
 * A clock that runs `speed` times faster than the wall clock from `originMs` on. The demo uses it
 * to replay a race faster: runners, server checks and ticks all agree on the same time.
 */
export function scaledClock(speed: number, originMs: number = Date.now(), base: Clock = systemClock): Clock {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`clock speed must be a positive number, got ${speed}`);
  if (speed === 1) return base;
  const baseOriginMs = base.nowMs();
  return { nowMs: () => originMs + (base.nowMs() - baseOriginMs) * speed };
}

/** A clock that moves only when told to; for tests. */
export class ManualClock implements Clock {
  constructor(private currentMs: number) {}
  nowMs(): number {
    return this.currentMs;
  }
  advance(ms: number): void {
    this.currentMs += ms;
  }
  set(ms: number): void {
    this.currentMs = ms;
  }
}
