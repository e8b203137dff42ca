// The predicted arrival at a point (shared/eta.ts), and its error measured on seeded runners
// through the course engine (simulations/eta.ts, what `npm run sim -- eta` prints).
import { describe, expect, it } from 'vitest';
import { elevationLookup, estimateArrival, flatEquivalentM, nextPassM } from '../../shared/eta.ts';
import type { TimingPoint } from '../../shared/protocol.ts';
import { runEta } from '../../simulations/eta.ts';

const points: TimingPoint[] = [5, 10, 15, 20].map((km) => ({ name: `${km} km`, distanceAlongRaceM: km * 1000, kind: 'split' as const }));
points.push({ name: 'Finish', distanceAlongRaceM: 21097, kind: 'finish' });

describe('the predicted arrival', () => {
  it('is exact for a runner who holds their pace, with an interval around it that widens with the distance left', () => {
    // 4 m/s: 5 km at 1,250 s, 10 km at 2,500 s; now at 12 km.
    const input = { startsAtMs: 0, timingPoints: points, crossings: [[1250, 1], [2500, 1]] as Array<[number, number]>, distanceNowM: 12000, nowMs: 3_000_000 };
    const near = estimateArrival(input, 15000)!;
    const far = estimateArrival(input, 21097)!;
    expect(near.atMs).toBeCloseTo(3_750_000, -3);
    expect(far.atMs).toBeCloseTo(3_000_000 + (9097 / 4) * 1000, -3);
    expect(near.earliestMs).toBeLessThan(near.atMs);
    expect(far.latestMs - far.earliestMs).toBeGreaterThan(2 * (near.latestMs - near.earliestMs));
  });

  it('weighs the pace of the last kilometres more than the race so far', () => {
    // 4 m/s to 10 km, then 3 m/s since: now at 14 km.
    const nowSec = 2500 + 4000 / 3;
    const input = { startsAtMs: 0, timingPoints: points, crossings: [[1250, 1], [2500, 1]] as Array<[number, number]>, distanceNowM: 14000, nowMs: nowSec * 1000 };
    const eta = estimateArrival(input, 20000)!;
    const aheadSec = (eta.atMs / 1000 - nowSec) / 6000;
    // Between the two paces, nearer the recent one.
    expect(aheadSec).toBeGreaterThan(1 / 3.7);
    expect(aheadSec).toBeLessThan(1 / 3);
  });

  it('says nothing for a point behind the runner, or with nothing to go by', () => {
    const input = { startsAtMs: 0, timingPoints: points, crossings: [], distanceNowM: 100, nowMs: 30_000 };
    expect(estimateArrival(input, 50)).toBeNull();
    expect(estimateArrival(input, 5000)).toBeNull(); // 100 m is not a pace
    expect(estimateArrival({ ...input, distanceNowM: 1200, nowMs: 400_000 }, 5000)!.atMs).toBeCloseTo(400_000 + (3800 / 3) * 1000, -3);
  });

  it('counts the climbs ahead: a stretch uphill is worth more flat metres, downhill fewer', () => {
    // 1% up for 1 km then 1% down for 1 km, on a lapped profile of 2 km.
    const elevationAt = elevationLookup([[0, 100], [1000, 110], [2000, 100]], 2000, true);
    expect(elevationAt(500)).toBeCloseTo(105, 6);
    expect(elevationAt(2500)).toBeCloseTo(105, 6); // the next lap
    expect(flatEquivalentM(0, 1000, elevationAt)).toBeCloseTo(1040, 6);
    expect(flatEquivalentM(1000, 2000, elevationAt)).toBeCloseTo(980, 6);
    expect(flatEquivalentM(0, 1000)).toBe(1000);
    // A runner at 4 m/s on the flat part of a race so far is expected later up the hill.
    const input = { startsAtMs: 0, timingPoints: points, crossings: [[1250, 1], [2500, 1]] as Array<[number, number]>, distanceNowM: 12000, nowMs: 3_000_000 };
    const flatCourse = estimateArrival(input, 13000)!;
    const hill = estimateArrival({ ...input, elevationAt: (d: number) => (d <= 12000 ? 0 : (d - 12000) * 0.02) }, 13000)!;
    expect((hill.atMs - input.nowMs) / (flatCourse.atMs - input.nowMs)).toBeCloseTo(1.08, 2);
  });

  it('finds the next pass of a point on a lap, and the one pass on a street course', () => {
    expect(nextPassM(100, 950, 400, 10000, true)).toBe(1300);
    expect(nextPassM(100, 1300, 400, 10000, true)).toBe(1700);
    expect(nextPassM(300, 9950, 400, 10000, true)).toBeNull();
    expect(nextPassM(5000, 4000, 10000, 10000, false)).toBe(5000);
    expect(nextPassM(3000, 4000, 10000, 10000, false)).toBeNull();
  });

  it('is within a minute and a half at the median 30 minutes ahead, and its 80% interval holds most arrivals (seeded runners)', () => {
    const figures = runEta(7, 20);
    for (const f of figures) {
      expect(f.predictions, `${f.scenario} ${f.leadMin} min`).toBeGreaterThan(10);
      expect(f.medianErrorSec, `${f.scenario} ${f.leadMin} min`).toBeLessThan(f.leadMin === 30 ? 90 : 40);
      expect(f.withinInterval, `${f.scenario} ${f.leadMin} min`).toBeGreaterThan(0.6);
    }
  });
});
