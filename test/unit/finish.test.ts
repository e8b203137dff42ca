// The finish decision, crossing interpolation, timing points and the episode verdict: the pure
// rules results and splits rest on, checked on the cases that decide a runner's time.
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EVENT_FILE } from '../../server/config.ts';
import { buildCourse, type Course } from '../../server/core/course.ts';
import { judgeEpisode, type Episode } from '../../server/core/episode.ts';
import { crossingFromEstimates, decideFinish, type Estimate, type FinishEvidence } from '../../server/core/finish.ts';
import { UNTIMED_CROSSING, packCrossing, timingPointsFor, unpackCrossing } from '../../server/core/timing-points.ts';
import { loadEventFile, type LoadedEvent } from '../../server/event/event-file.ts';
import { seededRandom } from '../../shared/random.ts';

const LINE_M = 10_000;
const T0 = Date.UTC(2026, 10, 22, 7, 0);

const estimate = (distanceM: number, atSec: number, speedMps = 4, sigmaM = 3): Estimate => ({ distanceM, speedMps, sigmaM, atMs: T0 + atSec * 1000 });

/** Evidence with nothing in it; each case adds what it is about. */
function evidence(over: Partial<FinishEvidence>): FinishEvidence {
  return {
    lineM: LINE_M,
    fix: null,
    beyondInARow: 0,
    beyondSumM: 0,
    estimate: estimate(LINE_M - 100, 0),
    before: null,
    reachedLine: null,
    standing: null,
    silence: null,
    justFound: false,
    ...over,
  };
}

describe('the finish decision', () => {
  it('finishes on one fix clearly past the line, at the time the runner reached it', () => {
    const before = estimate(LINE_M - 20, 0);
    const decision = decideFinish(
      evidence({ fix: { alongM: LINE_M + 40, sigmaM: 8, atMs: T0 + 15_000, offsetM: 5 }, estimate: estimate(LINE_M + 38, 15), before }),
    );
    expect(decision).toMatchObject({ finished: true, rule: 'beyond' });
    // 20 m at 4 m/s after the fix before: 5 s later, whatever the fix after says.
    expect(decision.finished && decision.atMs).toBe(T0 + 5_000);
  });

  it('does not finish on one fix just past the line within its noise, but on a few in a row that are', () => {
    const fix = (pastM: number, atSec: number) => ({ alongM: LINE_M + pastM, sigmaM: 8, atMs: T0 + atSec * 1000, offsetM: 5 });
    const first = decideFinish(evidence({ fix: fix(12, 5), estimate: estimate(LINE_M + 2, 5) }));
    expect(first).toMatchObject({ finished: false, beyondInARow: 1, beyondSumM: 12 });
    const second = decideFinish(
      evidence({ fix: fix(18, 10), estimate: estimate(LINE_M + 6, 10), beyondInARow: 1, beyondSumM: 12, reachedLine: { atMs: T0 + 4000, sigmaMs: 800 } }),
    );
    expect(second).toMatchObject({ finished: true, rule: 'beyond', atMs: T0 + 4000, sigmaMs: 800 });
  });

  it('does not take a reflected fix past the line while the smoothed estimate is still short of it', () => {
    const decision = decideFinish(evidence({ fix: { alongM: LINE_M + 60, sigmaM: 8, atMs: T0, offsetM: 5 }, estimate: estimate(LINE_M - 50, 0) }));
    expect(decision.finished).toBe(false);
  });

  it('takes no fix thrown far aside of the line as past it, nor lets it break a run of fixes that are', () => {
    // An outlier 40 m past the end and 48 m aside (8 m of noise), with the estimate pulled to the
    // line by the fix before: not a crossing.
    const thrown = decideFinish(
      evidence({ fix: { alongM: LINE_M + 40, sigmaM: 8, atMs: T0 + 5000, offsetM: 48 }, estimate: estimate(LINE_M + 15, 5), beyondInARow: 1, beyondSumM: 7, reachedLine: { atMs: T0 + 2000, sigmaMs: 800 } }),
    );
    expect(thrown).toMatchObject({ finished: false, beyondInARow: 1, beyondSumM: 7 });
    // The same fix beside the line (a runner who ran on past it): the crossing.
    const beside = decideFinish(
      evidence({ fix: { alongM: LINE_M + 40, sigmaM: 8, atMs: T0 + 5000, offsetM: 5 }, estimate: estimate(LINE_M + 15, 5), beyondInARow: 1, beyondSumM: 7, reachedLine: { atMs: T0 + 2000, sigmaMs: 800 } }),
    );
    expect(beside).toMatchObject({ finished: true, rule: 'beyond', atMs: T0 + 2000 });
  });

  it('takes one fix past the line alone for no crossing while the phone says the runner stands, unless the fix before was past it too', () => {
    const reachedLine = { atMs: T0 + 2000, sigmaMs: 800 };
    const fix = { alongM: LINE_M + 50, sigmaM: 8, atMs: T0 + 5000, offsetM: 5, phoneStill: true };
    // An outlier 50 m past the line while the phone's speed says standing: they did not run there.
    expect(decideFinish(evidence({ fix, estimate: estimate(LINE_M + 10, 5), reachedLine })).finished).toBe(false);
    // The fix before was past the line too: a runner who ran on and stopped.
    expect(decideFinish(evidence({ fix, estimate: estimate(LINE_M + 10, 5), reachedLine, beyondInARow: 1, beyondSumM: 30 }))).toMatchObject({ finished: true, rule: 'beyond' });
    // The same fix from a phone that says moving: the crossing.
    expect(decideFinish(evidence({ fix: { ...fix, phoneStill: false }, estimate: estimate(LINE_M + 10, 5), reachedLine }))).toMatchObject({ finished: true, rule: 'beyond' });
  });

  it('keeps a runner on one side of a wide finishing road, whose phone states 3 m, counting their fixes past the line', () => {
    const decision = decideFinish(
      evidence({ fix: { alongM: LINE_M + 30, sigmaM: 3, atMs: T0 + 5000, offsetM: 12 }, estimate: estimate(LINE_M + 20, 5), reachedLine: { atMs: T0 + 2000, sigmaMs: 800 } }),
    );
    expect(decision).toMatchObject({ finished: true, rule: 'beyond' });
  });

  it('confirms nothing on the fix that has just found a lost runner', () => {
    const decision = decideFinish(
      evidence({ fix: { alongM: LINE_M + 60, sigmaM: 8, atMs: T0, offsetM: 5 }, estimate: estimate(LINE_M + 60, 0), justFound: true }),
    );
    expect(decision.finished).toBe(false);
  });

  it('finishes a runner standing at the line, and not one standing 10 m short with the same noise', () => {
    const rng = seededRandom(7);
    const standing = (atM: number, fixes: number) => {
      let sum = 0;
      for (let i = 0; i < fixes; i++) sum += atM + rng.gaussian(8);
      // The variance of the mean of `fixes` fixes of 8 m.
      return { atM: sum / fixes, varianceM2: 64 / fixes, fixes, sinceMs: T0 };
    };
    let atLine = 0;
    let short = 0;
    for (let trial = 0; trial < 200; trial++) {
      if (decideFinish(evidence({ standing: standing(LINE_M + 2, 40), estimate: estimate(LINE_M, 0, 0) })).finished) atLine++;
      if (decideFinish(evidence({ standing: standing(LINE_M - 10, 40), estimate: estimate(LINE_M - 10, 0, 0) })).finished) short++;
    }
    expect(atLine).toBeGreaterThan(190);
    expect(short).toBe(0);
  });

  it('finishes a runner who went silent moving through the line, or standing at it, but not one silent a kilometre out', () => {
    const silence = { nowMs: T0 + 600_000, silentAfterMs: 300_000, lastFixAtMs: T0 };
    const moving = decideFinish(evidence({ estimate: estimate(LINE_M - 8, 0, 4, 4), silence }));
    expect(moving).toMatchObject({ finished: true, rule: 'silence', atMs: T0 + 2000 });
    const standingAtLine = decideFinish(
      evidence({ estimate: estimate(LINE_M - 2, 0, 0), standing: { atM: LINE_M - 2, varianceM2: 9, fixes: 2, sinceMs: T0 - 30_000 }, silence }),
    );
    expect(standingAtLine).toMatchObject({ finished: true, rule: 'silence' });
    expect(decideFinish(evidence({ estimate: estimate(LINE_M - 1000, 0), silence })).finished).toBe(false);
    // Not silent for long enough yet.
    expect(decideFinish(evidence({ estimate: estimate(LINE_M - 8, 0), silence: { ...silence, nowMs: T0 + 60_000 } })).finished).toBe(false);
  });
});

describe('crossing times between estimates', () => {
  it('interpolates with the pace before the line, and says how sure it is', () => {
    const at = crossingFromEstimates(5000, estimate(4980, 0, 4, 3), estimate(5020, 10, 4, 3))!;
    expect(at.atMs).toBe(T0 + 5000);
    expect(at.sigmaMs).toBeGreaterThanOrEqual(100);
    expect(at.sigmaMs).toBeLessThanOrEqual(5000);
  });

  it('across a long gap, puts the time where the pace says, no later than the fix after', () => {
    // Seen at 3,000 m, then 300 s later at 4,100 m: 3.67 m/s on average, 4 m/s before.
    const at = crossingFromEstimates(4000, estimate(3000, 0, 4, 5), estimate(4100, 300, 3.67, 5))!;
    expect(at.atMs).toBe(T0 + 250_000);
    expect(at.sigmaMs).toBeGreaterThan(1000); // a pace kept for four minutes is not known to a second
    expect(at.sigmaMs).toBeLessThanOrEqual(150_000);
  });

  it('falls back on proportion when the earlier pace would put the crossing after the fix past the line', () => {
    // The runner sped up: at 2 m/s they would cross at 500 s, but at 350 s they were past it.
    const at = crossingFromEstimates(4000, estimate(3000, 0, 2, 5), estimate(4050, 350, 4, 5))!;
    expect(at.atMs).toBeCloseTo(T0 + (1000 / 1050) * 350_000, 0);
  });

  it('has no time when the estimates do not reach the point', () => {
    expect(crossingFromEstimates(5000, estimate(4000, 0), estimate(4990, 10))).toBeNull();
  });
});

describe('timing points', () => {
  let event: LoadedEvent;
  beforeAll(async () => {
    event = await loadEventFile(DEMO_EVENT_FILE);
  });
  const courseOf = (raceId: string): Course => event.races.find((r) => r.raceId === raceId)!.course;

  it('puts one at every lap line of the track, every 5 km of a street course, and the finish last', () => {
    const track = timingPointsFor(courseOf('women-10k-stadium'));
    expect(track).toHaveLength(25);
    expect(track.slice(0, 2).map((p) => p.distanceAlongRaceM)).toEqual([400, 800]);
    expect(track.at(-1)).toEqual({ name: 'Finish', distanceAlongRaceM: 10_000, kind: 'finish' });
    const street = timingPointsFor(courseOf('men-10k'), [{ name: 'Water', distanceAlongRaceM: 2500 }]);
    expect(street.map((p) => [p.name, p.distanceAlongRaceM, p.kind])).toEqual([
      ['Water', 2500, 'named'],
      ['5 km', 5000, 'split'],
      ['Finish', 10_000, 'finish'],
    ]);
  });

  it('starts the lap lines after the partial first lap of a 5,000 m track race', () => {
    const fiveK = buildCourse({ kind: 'track', centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: 168, lane: 1 }, 5000);
    // 12.5 laps: the start is half a lap before the line, so the race finishes on it.
    expect(fiveK.startOffsetM).toBe(200);
    const points = timingPointsFor(fiveK);
    expect(points[0]!.distanceAlongRaceM).toBe(200);
    expect(points).toHaveLength(13);
    expect(points.at(-1)!.distanceAlongRaceM).toBe(5000);
  });

  it('packs a crossing time to a tenth of a second with its uncertainty', () => {
    const packed = packCrossing(T0 + 12_345, 1_234);
    expect(Number.isSafeInteger(packed)).toBe(true);
    expect(unpackCrossing(packed)).toEqual({ atMs: T0 + 12_300, sigmaMs: 1_200 });
    expect(unpackCrossing(UNTIMED_CROSSING)).toBeNull();
    expect(unpackCrossing(packCrossing(T0, 10 * 3600_000))!.sigmaMs).toBe(16_383 * 100); // capped, not wrapped
  });
});

describe('the episode verdict', () => {
  const context = { varianceM2: 64, speedMps: 4 };
  /** An episode from (seconds since the last trusted fix, miss) pairs. */
  function episode(points: Array<[number, number]>): Episode {
    const e: Episode = { fixes: 0, sumT: 0, sumTT: 0, sumMiss: 0, sumTMiss: 0, sumMissSq: 0 };
    for (const [t, miss] of points) {
      e.fixes++;
      e.sumT += t;
      e.sumTT += t * t;
      e.sumMiss += miss;
      e.sumTMiss += t * miss;
      e.sumMissSq += miss * miss;
    }
    return e;
  }
  const rng = seededRandom(3);
  const noisy = (f: (t: number) => number) => Array.from({ length: 8 }, (_, i) => [5 * (i + 1), f(5 * (i + 1)) + rng.gaussian(8)] as [number, number]);

  it('reads fixes falling further behind as a runner who stopped', () => {
    // Stopped at the last trusted fix: the estimate runs on at 4 m/s, the fixes stay.
    const verdict = judgeEpisode(episode(noisy((t) => -4 * t)), context, 40);
    expect(verdict.kind).toBe('pace');
    if (verdict.kind === 'pace') expect(verdict.slopeMps).toBeCloseTo(-4, 0);
  });

  it('reads fixes held 60 m ahead at the runner\'s pace as a reflection', () => {
    const verdict = judgeEpisode(episode(noisy(() => 60)), context, 40);
    expect(verdict.kind).toBe('offset');
    if (verdict.kind === 'offset') expect(verdict.offsetM).toBeCloseTo(60, -1);
  });

  it('reads fixes moving off ahead of an estimate that had stopped as a runner who set off again', () => {
    const verdict = judgeEpisode(episode(noisy((t) => 30 + 3.5 * t)), { varianceM2: 64, speedMps: 0 }, 40);
    expect(verdict).toMatchObject({ kind: 'pace' });
    if (verdict.kind === 'pace') expect(verdict.missNowM).toBeCloseTo(30 + 3.5 * 40, -1);
  });

  it('waits on fixes held behind an estimate that may be a runner standing', () => {
    // Two fixes 40 m behind a runner estimated at a walk: a reflection, or a stop?
    expect(judgeEpisode(episode([[5, -40], [10, -41], [15, -40]]), { varianceM2: 64, speedMps: 0.8 }, 15)).toEqual({ kind: 'unsure' });
  });

  it('reads fixes held 50 m behind that move on at a runner\'s pace as a reflection after four fixes', () => {
    // The misses' spread includes the estimate's own doubt (144 m²), which shifts every miss
    // alike; the pace the fixes show (2 m/s, as estimated) is blurred only by their own error
    // (81 m²): 2.5 standard deviations from a runner standing (1.9 against the misses' spread).
    const held: Array<[number, number]> = [[5, -50], [10, -51], [15, -49], [20, -50]];
    const verdict = judgeEpisode(episode(held), { varianceM2: 144, fixVarianceM2: 81, speedMps: 2 }, 20);
    expect(verdict).toMatchObject({ kind: 'offset' });
    if (verdict.kind === 'offset') expect(verdict.offsetM).toBeCloseTo(-50, 0);
    // Fixes held as far behind an estimate slowed to a walk, and standing still: a runner who
    // stopped, or a reflection? Unsure (the runner is held meanwhile).
    expect(judgeEpisode(episode([[5, -44], [10, -48], [15, -52], [20, -56]]), { varianceM2: 144, fixVarianceM2: 81, speedMps: 0.8 }, 20)).toEqual({ kind: 'unsure' });
  });

  it('cannot tell from one fix, and finds no straight line in scattered jumps', () => {
    expect(judgeEpisode(episode([[5, 60]]), context, 5)).toEqual({ kind: 'unsure' });
    expect(judgeEpisode(episode([[5, 80], [10, -90], [15, 85], [20, -70], [25, 90]]), context, 25)).toEqual({ kind: 'mixed' });
  });
});
