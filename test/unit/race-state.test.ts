// The viewer's copy of a race: snapshot, then deltas in sequence; a gap asks for a snapshot.
import { describe, expect, it } from 'vitest';
import { RunnerStatus, type RaceSnapshot } from '../../shared/protocol.ts';
import { ViewedRace } from '../../web/src/race-state.ts';

const snapshot: RaceSnapshot = {
  raceId: 'r',
  seq: 7,
  takenAtMs: 0,
  startsAtMs: 1000,
  runners: [
    { runnerIndex: 0, participantId: 'a', bib: '101', name: 'Shirin Rahimi', distanceAlongRaceM: 500, lap: 2, status: 1, lat: 0, lon: 0, finishedAtMs: null, crossings: [] },
    { runnerIndex: 1, participantId: 'b', bib: '102', name: 'Leila Moradi', distanceAlongRaceM: 900, lap: 3, status: 1, lat: 0, lon: 0, finishedAtMs: null, crossings: [] },
    { runnerIndex: 2, participantId: 'c', bib: '103', name: 'Tara Novak', distanceAlongRaceM: 0, lap: 1, status: 0, lat: null, lon: null, finishedAtMs: null, crossings: [] },
    { runnerIndex: 3, participantId: 'd', bib: '104', name: 'Mina Costa', distanceAlongRaceM: 10000, lap: 25, status: 3, lat: 0, lon: 0, finishedAtMs: 5000, crossings: [[250, 1], [500, 1]] },
  ],
};

describe('viewed race', () => {
  it('applies consecutive deltas and asks for a snapshot after a gap', () => {
    const race = new ViewedRace('r', 400, 10000);
    expect(race.applyDelta({ seq: 1, tickAtMs: 0, entries: [], crossings: [] })).toBe('needsSnapshot');
    race.applySnapshot(snapshot);
    expect(race.applyDelta({ seq: 7, tickAtMs: 0, entries: [], crossings: [] })).toBe('stale');
    expect(race.applyDelta({ seq: 8, tickAtMs: 0, entries: [{ runnerIndex: 0, distanceAlongRaceM: 1210, status: 1 }], crossings: [] })).toBe('applied');
    expect(race.runner(0)!.distanceAlongRaceM).toBe(1210);
    expect(race.lapOf(race.runner(0)!)).toBe(4);
    expect(race.applyDelta({ seq: 10, tickAtMs: 0, entries: [], crossings: [] })).toBe('needsSnapshot');
    expect(race.sequence).toBe(8);
    expect(race.applyDelta({ seq: 9, tickAtMs: 0, entries: [{ runnerIndex: 99, distanceAlongRaceM: 1, status: 1 }], crossings: [] })).toBe(
      'needsSnapshot',
    );
  });

  it('keeps crossing times from the snapshot and the deltas, the finish time from the finish line\'s', () => {
    const race = new ViewedRace('r', 400, 10000, 0, 25);
    race.applySnapshot(snapshot);
    expect(race.runner(3)!.crossings).toEqual([[250, 1], [500, 1]]);
    expect(
      race.applyDelta({
        seq: 8,
        tickAtMs: 9000,
        entries: [{ runnerIndex: 0, distanceAlongRaceM: 10000, status: RunnerStatus.finished }],
        crossings: [
          { runnerIndex: 0, pointIndex: 1, sinceStartMs: 600_000, sigmaMs: 1500 },
          { runnerIndex: 0, pointIndex: 24, sinceStartMs: 3_000_000, sigmaMs: 900 },
        ],
      }),
    ).toBe('applied');
    expect(race.runner(0)!.crossings[1]).toEqual([600, 1.5]);
    expect(race.runner(0)!.finishedAtMs).toBe(1000 + 3_000_000);
  });

  it('ranks runners on course by distance and finds them by bib or name', () => {
    const race = new ViewedRace('r', 400, 10000);
    race.applySnapshot(snapshot);
    race.applyDelta({ seq: 8, tickAtMs: 9000, entries: [{ runnerIndex: 0, distanceAlongRaceM: 10000, status: RunnerStatus.finished }], crossings: [] });
    // 104 finished first (in the snapshot), 101 later (in a delta), 102 is still running.
    expect(race.leaders(5).map((r) => r.bib)).toEqual(['104', '101', '102']);
    expect(race.leaders(1).map((r) => r.bib)).toEqual(['104']);
    expect(race.find('102')!.name).toBe('Leila Moradi');
    expect(race.find('103 Tara Novak')!.runnerIndex).toBe(2);
    expect(race.find('novak')!.bib).toBe('103');
    expect(race.find('  ')).toBeUndefined();
    expect(race.find('nobody')).toBeUndefined();
  });
});
