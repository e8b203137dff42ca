// The contract every store implementation keeps. Run against each implementation (memory now;
// Redis with the scale-out work) by `storeContract(name, factory)`.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunnerStatus } from '../../shared/protocol.ts';
import { initialRunnerState, type RunnerState } from '../../server/core/race-tracker.ts';
import type { LoggedPing, Stores } from '../../server/ports/stores.ts';

export function storeContract(name: string, createStores: () => Promise<Stores>): void {
  describe(`${name} stores`, () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await createStores();
    });
    afterEach(async () => {
      await stores.close();
    });

    const ping = (raceId: string, participantId: string, recordedAtMs: number): LoggedPing => ({
      raceId,
      participantId,
      receivedAtMs: recordedAtMs + 10,
      fix: { lat: 35.7, lon: 51.3, recordedAtMs, accuracyM: 5 },
    });

    it('keeps pings per race in the order they were appended', async () => {
      await stores.pingLog.append(ping('a', 'p1', 3000));
      await stores.pingLog.append(ping('b', 'p2', 1000));
      await stores.pingLog.append(ping('a', 'p1', 2000));
      expect((await stores.pingLog.read('a')).map((p) => p.fix.recordedAtMs)).toEqual([3000, 2000]);
      expect(await stores.pingLog.count('a')).toBe(2);
      expect(await stores.pingLog.read('b')).toEqual([ping('b', 'p2', 1000)]);
      expect(await stores.pingLog.read('none')).toEqual([]);
    });

    it('is not changed by what a caller does with a ping after appending or reading it', async () => {
      const original = ping('a', 'p1', 1000);
      await stores.pingLog.append(original);
      original.fix.lat = 0;
      const [read] = await stores.pingLog.read('a');
      read!.fix.lon = 0;
      expect((await stores.pingLog.read('a'))[0]!.fix).toMatchObject({ lat: 35.7, lon: 51.3 });
    });

    it('keeps the latest state of each runner per race', async () => {
      const state: RunnerState = {
        ...initialRunnerState('p1'),
        status: RunnerStatus.onCourse,
        distanceAlongRaceM: 1234.5,
        progress: { distanceM: 1234.5, speedMps: 3.1, varDD: 16, covDV: 0.5, varVV: 0.2, atMs: 99 },
        lastFixAtMs: 99,
      };
      await stores.runnerStates.save('a', state);
      state.distanceAlongRaceM = 2000;
      await stores.runnerStates.save('a', { ...state });
      await stores.runnerStates.save('a', initialRunnerState('p2'));
      await stores.runnerStates.save('b', initialRunnerState('p1'));
      const loaded = await stores.runnerStates.loadRace('a');
      expect(loaded.sort((x, y) => x.participantId.localeCompare(y.participantId))).toEqual([
        { ...state, distanceAlongRaceM: 2000 },
        initialRunnerState('p2'),
      ]);
      expect(await stores.runnerStates.loadRace('none')).toEqual([]);
    });
  });
}
