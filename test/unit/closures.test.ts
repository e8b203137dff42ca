// Road sections reopening behind the last runner: the states, and the safety property across
// seeded simulations (runners who stop, walk, leave the course and come back, or abandon).
import { beforeAll, describe, expect, it } from 'vitest';
import { RunnerStatus } from '../../shared/protocol.ts';
import { DEMO_EVENT_FILE } from '../../server/config.ts';
import { PASSED_MARGIN_M, sectionStatus, sectionsPerKilometre, type ClosureRace, type ClosureRunner } from '../../server/core/closures.ts';
import { loadEventFile, type LoadedEvent } from '../../server/event/event-file.ts';
import { runClosures } from '../../simulations/closures.ts';

const START = Date.UTC(2026, 10, 4, 4, 0);
const section = { sectionId: 's', name: 'km 3', spans: [{ raceId: 'r', fromM: 2000, toM: 3000 }], plannedCloseAtMs: null, plannedReopenAtMs: null };
const runner = (participantId: string, distanceAlongRaceM: number, extra: Partial<ClosureRunner> = {}): ClosureRunner => ({
  participantId,
  distanceAlongRaceM,
  status: RunnerStatus.onCourse,
  abandoned: false,
  isSweeper: false,
  speedMps: 3,
  ...extra,
});
const race = (runners: ClosureRunner[], cutoffPaceSecPerKm: number | null = null): Map<string, ClosureRace> =>
  new Map([['r', { raceId: 'r', startsAtMs: START, raceDistanceM: 10000, cutoffPaceSecPerKm, runners }]]);

describe('section states', () => {
  it('waits, is in use with its first and last runner, then clears behind the last', () => {
    const now = START + 600_000;
    expect(sectionStatus(section, race([runner('a', 1500), runner('b', 900)]), now, null)).toMatchObject({ state: 'waiting', runnersToPass: 2 });
    expect(sectionStatus(section, race([runner('a', 2600), runner('b', 2100), runner('c', 900)]), now, null)).toMatchObject({
      state: 'inUse',
      runnersOn: 2,
      firstOn: 'a',
      lastOn: 'b',
      runnersToPass: 3,
    });
    expect(sectionStatus(section, race([runner('a', 5000), runner('b', 3000 + PASSED_MARGIN_M)]), now, null).state).toBe('readyToReopen');
  });

  it('counts a runner as past only well past the end, and never one unseen or off course', () => {
    const now = START + 600_000;
    expect(sectionStatus(section, race([runner('a', 3010)]), now, null).state).toBe('inUse');
    expect(sectionStatus(section, race([runner('a', 5000), runner('b', 0, { status: RunnerStatus.notStarted })]), now, null)).toMatchObject({
      state: 'inUse',
      runnersToPass: 1,
    });
    expect(sectionStatus(section, race([runner('a', 5000), runner('b', 1800, { status: RunnerStatus.offCourse })]), now, null).state).not.toBe(
      'readyToReopen',
    );
    expect(sectionStatus(section, race([runner('a', 5000), runner('b', 1800, { abandoned: true })]), now, null).state).toBe('readyToReopen');
    // Shown past the end but off the course: may come back onto it.
    expect(sectionStatus(section, race([runner('a', 5000), runner('b', 3100, { status: RunnerStatus.offCourse })]), now, null).state).toBe('inUse');
    expect(sectionStatus(section, race([runner('a', 10000, { status: RunnerStatus.finished })]), now, null).state).toBe('readyToReopen');
  });

  it('waits for the sweeper, tracked or virtual, after the last runner', () => {
    const ran = [runner('a', 5000)];
    // Virtual sweeper at 8:00 per km: at 20 min it is at 2.5 km, at 30 min past 3 km.
    expect(sectionStatus(section, race(ran, 480), START + 20 * 60_000, null)).toMatchObject({ state: 'clearBehindLast', sweeperPassed: false });
    expect(sectionStatus(section, race(ran, 480), START + 30 * 60_000, null).state).toBe('readyToReopen');
    const sweeper = runner('sweep', 2900, { isSweeper: true, speedMps: 2 });
    const status = sectionStatus(section, race([...ran, sweeper]), START + 30 * 60_000, null);
    expect(status.state).toBe('clearBehindLast');
    // Predicted when the sweeper has covered the last 100 m (and the margin) at 2 m/s.
    expect(status.predictedReadyAtMs! - (START + 30 * 60_000)).toBeCloseTo(50_000, -3);
  });

  it('predicts the reopening from the pace of those still before it, and flags runners on a reopened section', () => {
    const now = START + 600_000;
    const status = sectionStatus(section, race([runner('a', 2500, { speedMps: 2.5 }), runner('b', 1000, { speedMps: 2 })]), now, null);
    expect(status.predictedReadyAtMs).toBe(now + 1000_000); // b: 2 km to go at 2 m/s
    const stopped = sectionStatus(section, race([runner('a', 1800, { speedMps: 0 })]), now, null);
    expect(stopped.predictedReadyAtMs).toBe(now + (1200 / 3) * 1000); // average pace so far: 3 m/s
    const reopened = sectionStatus(section, race([runner('a', 2500)]), now, now - 1000);
    expect(reopened).toMatchObject({ state: 'reopened', runnersOnAfterReopen: ['a'], predictedReadyAtMs: null });
  });

  it('splits a course with no sections into kilometres', () => {
    const sections = sectionsPerKilometre('r', '10 km', 10500);
    expect(sections).toHaveLength(11);
    expect(sections.at(-1)!.spans).toEqual([{ raceId: 'r', fromM: 10000, toM: 10500 }]);
  });
});

describe('the safety property in simulations', () => {
  let event: LoadedEvent;
  beforeAll(async () => {
    event = await loadEventFile(DEMO_EVENT_FILE);
  });

  it.each([1, 2, 3, 4])('never reports a section ready while a runner is still before it (seed %i)', (seed) => {
    const result = runClosures(event, { seed, raceIds: ['men-10k', 'men-21k'], runnersPerRace: 40, tickSec: 15 });
    expect(result.safetyViolations).toEqual([]);
    expect(result.sections.every((s) => s.readyAtMs !== null)).toBe(true);
  });
});
