// The results table from a race's snapshot (shared/results.ts): the order a timing system gives,
// gaps at the last point both passed, laps and lap times, splits, places and categories.
import { describe, expect, it } from 'vitest';
import { RunnerStatus, type CrossingTime, type RunnerSnapshot, type RunnerStatusCode, type TimingPoint } from '../../shared/protocol.ts';
import { buildResults, categoriesOf, categoryRows, formatDuration } from '../../shared/results.ts';

const START_MS = Date.UTC(2026, 10, 4, 4, 0);
const trackPoints: TimingPoint[] = [
  { name: 'Lap 1', distanceAlongRaceM: 400, kind: 'lap' },
  { name: 'Lap 2', distanceAlongRaceM: 800, kind: 'lap' },
  { name: 'Finish', distanceAlongRaceM: 1200, kind: 'finish' },
];

function runner(runnerIndex: number, status: RunnerStatusCode, distanceAlongRaceM: number, crossings: CrossingTime[], extra: Partial<RunnerSnapshot> = {}): RunnerSnapshot {
  const finish = status === RunnerStatus.finished ? crossings.at(-1) : null;
  return {
    runnerIndex,
    participantId: `r-${runnerIndex}`,
    bib: String(100 + runnerIndex),
    name: `Runner ${runnerIndex}`,
    distanceAlongRaceM,
    lap: 1,
    status,
    lat: null,
    lon: null,
    finishedAtMs: finish ? START_MS + finish[0] * 1000 : null,
    crossings,
    ...extra,
  };
}

const track = (runners: RunnerSnapshot[]) =>
  buildResults({ raceId: 'track', raceName: 'Track 1,200 m', startsAtMs: START_MS, raceDistanceM: 1200, lapped: true, timingPoints: trackPoints, runners });

describe('results', () => {
  it('places finishers by time, then runners racing by the last point and when, then those not seen; DNF has no place', () => {
    const results = track([
      runner(0, RunnerStatus.onCourse, 900, [[80, 1], [170, 1]]),
      runner(1, RunnerStatus.finished, 1200, [[70, 1], [140, 1], [215.3, 1]]),
      runner(2, RunnerStatus.onCourse, 850, [[75, 1], [160, 1]]),
      runner(3, RunnerStatus.dnf, 500, [[90, 1]]),
      runner(4, RunnerStatus.notStarted, 0, []),
      runner(5, RunnerStatus.finished, 1200, [[72, 1], [143, 1], [210.1, 1]]),
      runner(6, RunnerStatus.offCourse, 600, [[85, 1]]),
    ]);
    expect(results.rows.map((r) => [r.participantId, r.position])).toEqual([
      ['r-5', 1],
      ['r-1', 2],
      ['r-2', 3], // passed lap 2 at 160 s, before r-0 at 170 s, though r-0 is further on now
      ['r-0', 4],
      ['r-6', 5],
      ['r-4', null],
      ['r-3', null],
    ]);
    const byId = new Map(results.rows.map((r) => [r.participantId, r]));
    expect(byId.get('r-5')).toMatchObject({ status: 'finished', finishSec: 210.1, gapSec: 0, lapsCompleted: 3 });
    expect(byId.get('r-1')).toMatchObject({ finishSec: 215.3, gapSec: 5.2 });
    // Behind the leader where both last passed at a known time: lap 2 for those still racing.
    expect(byId.get('r-2')).toMatchObject({ gapSec: 17, lapsCompleted: 2, lastPoint: { pointIndex: 1, name: 'Lap 2', sinceStartSec: 160 }, lastSplitSec: 85 });
    expect(byId.get('r-6')).toMatchObject({ status: 'off course', gapSec: 13 });
    expect(byId.get('r-3')).toMatchObject({ status: 'dnf', gapSec: null });
  });

  it('gives each split its time, its pace per kilometre and the place at that point', () => {
    const results = track([runner(0, RunnerStatus.finished, 1200, [[80, 1], [170, 1], [250, 1]]), runner(1, RunnerStatus.finished, 1200, [[78, 1], [175, 1], [262, 1]])]);
    const splits = results.rows.find((r) => r.participantId === 'r-0')!.splits;
    expect(splits.map((s) => [s.name, s.sinceStartSec, s.splitSec, s.paceSecPerKm, s.position])).toEqual([
      ['Lap 1', 80, 80, 200, 2],
      ['Lap 2', 170, 90, 225, 1],
      ['Finish', 250, 80, 200, 1],
    ]);
  });

  it('does not make up a split across a point passed at no known time (a lap an organiser set)', () => {
    const results = track([runner(0, RunnerStatus.onCourse, 1000, [null, [170, 1]])]);
    const [row] = results.rows;
    expect(row!.splits.map((s) => [s.sinceStartSec, s.splitSec, s.position])).toEqual([
      [null, null, null],
      [170, null, 1],
    ]);
    expect(row!.lapsCompleted).toBe(2);
  });

  it('places runners within a category and lists the categories', () => {
    const results = track([
      runner(0, RunnerStatus.finished, 1200, [[80, 1], [170, 1], [250, 1]], { categories: ['W', 'W35'] }),
      runner(1, RunnerStatus.finished, 1200, [[78, 1], [160, 1], [240, 1]], { categories: ['M'] }),
      runner(2, RunnerStatus.finished, 1200, [[90, 1], [180, 1], [270, 1]], { categories: ['W'] }),
    ]);
    expect(categoriesOf(results)).toEqual(['M', 'W', 'W35']);
    expect(categoryRows(results, 'W').map((r) => [r.participantId, r.position, r.categoryPosition])).toEqual([
      ['r-0', 2, 1],
      ['r-2', 3, 2],
    ]);
  });

  it('has no laps on a street course', () => {
    const results = buildResults({
      raceId: 'street',
      raceName: 'Street',
      startsAtMs: START_MS,
      raceDistanceM: 10000,
      lapped: false,
      timingPoints: [
        { name: '5 km', distanceAlongRaceM: 5000, kind: 'split' },
        { name: 'Finish', distanceAlongRaceM: 10000, kind: 'finish' },
      ],
      runners: [runner(0, RunnerStatus.onCourse, 6000, [[1500, 2]])],
    });
    expect(results.rows[0]).toMatchObject({ lapsCompleted: null, position: 1, gapSec: 0 });
    expect(results.rows[0]!.splits[0]!.paceSecPerKm).toBe(300);
  });

  it('writes times as a timing system does', () => {
    expect(formatDuration(59.96)).toBe('0:59');
    expect(formatDuration(3725.4, true)).toBe('1:02:05.4');
    expect(formatDuration(-12.3, true)).toBe('-0:12.3');
  });
});
