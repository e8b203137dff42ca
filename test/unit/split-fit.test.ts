import { describe, expect, it } from 'vitest';
import { fittedCrossing as fitted, gather, newSplitFit, type SplitFit } from '../../server/core/split-fit.ts';
import { seededRandom } from '../../shared/random.ts';

const FROM_MS = 1_800_000_000_000;

/** Fixes every `everySec` for `spanSec`, of a runner `yAt(t)` metres past the point, with `noiseM` of seeded scatter along the course. */
function fitOf(spanSec: number, everySec: number, noiseM: number, seed: number, yAt: (tSec: number) => number): { fit: SplitFit; lastAtMs: number } {
  const random = seededRandom(seed);
  const fit = newSplitFit(0, FROM_MS);
  let lastAtMs = FROM_MS;
  for (let t = 0; t <= spanSec; t += everySec) {
    lastAtMs = FROM_MS + t * 1000;
    gather(fit, lastAtMs, yAt(t) + random.gaussian(noiseM));
  }
  return { fit, lastAtMs };
}

const fittedCrossing = ({ fit, lastAtMs }: { fit: SplitFit; lastAtMs: number }, varianceM2: number) => fitted(fit, varianceM2, lastAtMs);

describe('a crossing time from the fixes either side of a timing point', () => {
  it('puts a steady runner at the point within 4 s from fixes with 15 m of scatter every 5 s, and within twice the uncertainty it states 9 times in 10', () => {
    // 3.3 m/s, at the point 45 s in; one fix alone is 4.5 s off on average.
    let misses = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const at = fittedCrossing(fitOf(90, 5, 15, seed, (t) => 3.3 * (t - 45)), 15 ** 2)!;
      expect(at, `seed ${seed}`).not.toBeNull();
      const errorSec = Math.abs((at.atMs - FROM_MS) / 1000 - 45);
      expect(errorSec, `seed ${seed}`).toBeLessThan(4);
      if (errorSec > 2 * (at.sigmaMs / 1000)) misses += 1;
      expect(at.sigmaMs).toBeGreaterThan(500);
      expect(at.sigmaMs).toBeLessThan(2500);
    }
    // Two standard deviations hold about 95% of the errors.
    expect(misses).toBeLessThanOrEqual(6);
  });

  it('gives no time for a runner who stopped at the point, turned back there, or was seen on one side only', () => {
    const stopped = fitOf(90, 5, 5, 7, (t) => (t < 30 ? 3.5 * (t - 30) : 0));
    expect(fittedCrossing(stopped, 25)).toBeNull();
    const turned = fitOf(90, 5, 5, 8, (t) => -Math.abs(3 * (t - 45)) + 5);
    expect(fittedCrossing(turned, 25)).toBeNull();
    const shortOnly = fitOf(40, 5, 5, 9, (t) => 3 * (t - 45));
    expect(fittedCrossing(shortOnly, 25)).toBeNull();
    const oneAfter = fitOf(45, 5, 2, 10, (t) => 3 * (t - 42));
    expect(fittedCrossing(oneAfter, 4)).toBeNull();
  });

  it('gives no time for fixes scattered further than their error allows (a reflection among them)', () => {
    const fit = fitOf(90, 5, 5, 11, (t) => 3.5 * (t - 45) + (t >= 50 && t < 70 ? 60 : 0));
    expect(fittedCrossing(fit, 25)).toBeNull();
  });
});
