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
export function scaledClock(speed: number, originMs: number = Date.now(), base: Clock = systemClock): Clock & { speed: number } {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`clock speed must be a positive number, got ${speed}`);
  const baseOriginMs = base.nowMs();
  if (speed === 1 && originMs === baseOriginMs) return { nowMs: () => base.nowMs(), speed };
  return { nowMs: () => originMs + (base.nowMs() - baseOriginMs) * speed, speed };
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
