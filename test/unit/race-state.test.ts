// The viewer's copy of a race: snapshot, then deltas in sequence; a gap asks for a snapshot.
import { describe, expect, it } from 'vitest';
import { RunnerStatus, type RaceSnapshot } from '../../shared/protocol.ts';
import { ViewedRace } from '../../web/src/race-state.ts';

const snapshot: RaceSnapshot = {
  raceId: 'r',
  seq: 7,
  takenAtMs: 0,
  runners: [
    { runnerIndex: 0, participantId: 'a', bib: '101', name: 'Shirin Rahimi', distanceAlongRaceM: 500, lap: 2, status: 1, lat: 0, lon: 0, finishedAtMs: null },
    { runnerIndex: 1, participantId: 'b', bib: '102', name: 'Leila Moradi', distanceAlongRaceM: 900, lap: 3, status: 1, lat: 0, lon: 0, finishedAtMs: null },
    { runnerIndex: 2, participantId: 'c', bib: '103', name: 'Tara Novak', distanceAlongRaceM: 0, lap: 1, status: 0, lat: null, lon: null, finishedAtMs: null },
    { runnerIndex: 3, participantId: 'd', bib: '104', name: 'Mina Costa', distanceAlongRaceM: 10000, lap: 25, status: 3, lat: 0, lon: 0, finishedAtMs: 5000 },
  ],
};

describe('viewed race', () => {
  it('applies consecutive deltas and asks for a snapshot after a gap', () => {
    const race = new ViewedRace('r', 400, 10000);
    expect(race.applyDelta({ seq: 1, tickAtMs: 0, entries: [] })).toBe('needsSnapshot');
    race.applySnapshot(snapshot);
    expect(race.applyDelta({ seq: 7, tickAtMs: 0, entries: [] })).toBe('stale');
    expect(race.applyDelta({ seq: 8, tickAtMs: 0, entries: [{ runnerIndex: 0, distanceAlongRaceM: 1210, status: 1 }] })).toBe('applied');
    expect(race.runner(0)!.distanceAlongRaceM).toBe(1210);
    expect(race.lapOf(race.runner(0)!)).toBe(4);
    expect(race.applyDelta({ seq: 10, tickAtMs: 0, entries: [] })).toBe('needsSnapshot');
    expect(race.sequence).toBe(8);
    expect(race.applyDelta({ seq: 9, tickAtMs: 0, entries: [{ runnerIndex: 99, distanceAlongRaceM: 1, status: 1 }] })).toBe(
      'needsSnapshot',
    );
  });

  it('ranks runners on course by distance and finds them by bib or name', () => {
    const race = new ViewedRace('r', 400, 10000);
    race.applySnapshot(snapshot);
    race.applyDelta({ seq: 8, tickAtMs: 9000, entries: [{ runnerIndex: 0, distanceAlongRaceM: 10000, status: RunnerStatus.finished }] });
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
