// The contract every store implementation keeps, run against the in-memory stores
// (test/unit/stores.test.ts) and the Redis ones (test/integration/redis-stores.test.ts) by
// `storeContract(name, factory)`.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RunnerStatus } from '../../shared/protocol.ts';
import { initialRunnerState, type RunnerState } from '../../server/core/runner-state.ts';
import { compareLogIds, type LoggedPing, type RaceLeases, type Stores } from '../../server/ports/stores.ts';

export interface ContractStores {
  stores: Stores;
  /** The same leases as another process sees them. */
  otherLeases: RaceLeases;
  close(): Promise<void>;
}

/** Leases in the contract last this long, so expiry can be waited for. */
export const CONTRACT_LEASE_TTL_MS = 400;

export function storeContract(name: string, createStores: () => Promise<ContractStores>): void {
  describe(`${name} stores`, () => {
    let made: ContractStores;
    let stores: Stores;
    beforeEach(async () => {
      made = await createStores();
      stores = made.stores;
    });
    afterEach(async () => {
      await made.close();
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

    it('gives each ping an increasing log id and reads on from any of them, with its tag', async () => {
      const first = await stores.pingLog.append(ping('a', 'p1', 1000), 'proc-1#1');
      const second = await stores.pingLog.append(ping('a', 'p1', 2000));
      const third = await stores.pingLog.append(ping('a', 'p2', 3000), 'proc-2#7');
      expect(compareLogIds(first, second)).toBeLessThan(0);
      expect(compareLogIds(second, third)).toBeLessThan(0);
      const all = await stores.pingLog.readAfter('a', null);
      expect(all.map((e) => [e.logId, e.tag, e.ping?.fix.recordedAtMs])).toEqual([
        [first, 'proc-1#1', 1000],
        [second, null, 2000],
        [third, 'proc-2#7', 3000],
      ]);
      expect((await stores.pingLog.readAfter('a', first)).map((e) => e.logId)).toEqual([second, third]);
      expect(await stores.pingLog.readAfter('a', third)).toEqual([]);
    });

    it('keeps pings appended at once in the order they were given, each with its own id', async () => {
      const ids = await Promise.all([1000, 2000, 3000, 4000].map((at, i) => stores.pingLog.append(ping('a', `p${i}`, at), `t${i}`)));
      expect([...ids].sort(compareLogIds)).toEqual(ids);
      expect(new Set(ids).size).toBe(4);
      const after = await stores.pingLog.readAfter('a', ids[1]!);
      expect(after.map((e) => [e.logId, e.tag, e.ping?.participantId])).toEqual([
        [ids[2], 't2', 'p2'],
        [ids[3], 't3', 'p3'],
      ]);
      expect(await stores.pingLog.count('a')).toBe(4);
      // A reader from the start gets all four, in order.
      const fresh = await stores.pingLog.readNew(new Map([['a', null]]), 0, 100);
      expect(fresh.map((e) => e.logId)).toEqual(ids);
    });

    it('keeps an organiser\'s change in order among the pings, apart from them', async () => {
      const first = await stores.pingLog.append(ping('a', 'p1', 1000));
      const change = await stores.pingLog.appendChange('a', { kind: 'outcome', participantId: 'p1', outcome: 'dnf', by: 'organiser' }, 'me#9');
      const last = await stores.pingLog.append(ping('a', 'p1', 2000));
      const entries = await stores.pingLog.readAfter('a', null);
      expect(entries.map((e) => e.logId)).toEqual([first, change, last]);
      expect(entries[1]).toMatchObject({ ping: null, tag: 'me#9', change: { kind: 'outcome', participantId: 'p1', outcome: 'dnf' } });
      expect(entries[0]!.change).toBeNull();
      // A change is not a ping: the log's pings are the two fixes.
      expect(await stores.pingLog.count('a')).toBe(2);
      expect((await stores.pingLog.read('a')).map((p) => p.fix.recordedAtMs)).toEqual([1000, 2000]);
    });

    it('hands new pings of several races to a reader waiting for them, each race in order', async () => {
      const a1 = await stores.pingLog.append(ping('a', 'p1', 1000));
      // Nothing after the cursors yet: the reader waits, and has a ping appended meanwhile (whether
      // it was already waiting when the ping came or asked just after, the answer is the same).
      const waiting = stores.pingLog.readNew(new Map([['a', a1], ['b', null]]), 2000, 100);
      const b1 = await stores.pingLog.append(ping('b', 'p9', 5000), 'x');
      const woke = await waiting;
      expect(woke.map((e) => [e.raceId, e.logId, e.tag])).toEqual([['b', b1, 'x']]);
      const a2 = await stores.pingLog.append(ping('a', 'p1', 2000));
      const a3 = await stores.pingLog.append(ping('a', 'p1', 3000));
      const batch = await stores.pingLog.readNew(new Map([['a', null], ['b', b1]]), 0, 2);
      // At most two per race, oldest first.
      expect(batch.map((e) => e.logId)).toEqual([a1, a2]);
      expect((await stores.pingLog.readNew(new Map([['a', a2]]), 0, 100)).map((e) => e.logId)).toEqual([a3]);
      // Nothing new: an empty answer once the wait is over.
      expect(await stores.pingLog.readNew(new Map([['a', a3], ['b', b1]]), 100, 100)).toEqual([]);
    });

    it('keeps the latest state of each runner per race', async () => {
      const state: RunnerState = {
        ...initialRunnerState('p1'),
        status: RunnerStatus.onCourse,
        distanceAlongRaceM: 1234.5,
        progress: { distanceM: 1234.5, speedMps: 3.1, varDD: 16, covDV: 0.5, varVV: 0.2, atMs: 99 },
        lastFixAtMs: 99,
      };
      // Saved with the race's checkpoints, by the holder of its lease.
      expect(await stores.leases.claim(['a', 'b'])).toEqual(['a', 'b']);
      const save = (raceId: string, states: RunnerState[]) =>
        stores.runnerStates.checkpoint(raceId, states, { lastLogId: '5-0', seq: 1, sentSeq: 0, settings: null }, stores.leases.holderId);
      expect(await save('a', [state])).toBe(true);
      state.distanceAlongRaceM = 2000;
      expect(await save('a', [{ ...state }, initialRunnerState('p2')])).toBe(true);
      expect(await save('b', [initialRunnerState('p1')])).toBe(true);
      const loaded = await stores.runnerStates.loadRace('a');
      expect(loaded.sort((x, y) => x.participantId.localeCompare(y.participantId))).toEqual([
        { ...state, distanceAlongRaceM: 2000 },
        initialRunnerState('p2'),
      ]);
      expect(await stores.runnerStates.loadRace('none')).toEqual([]);
    });

    it('gives a race\'s lease to one holder at a time, renews it for that holder, and frees it on release', async () => {
      const me = stores.leases;
      expect(await me.claim(['a', 'b'])).toEqual(['a', 'b']);
      expect(await me.holder('a')).toBe(me.holderId);
      expect(await made.otherLeases.claim(['a', 'b', 'c'])).toEqual(['c']);
      expect(await me.claim(['a', 'b', 'c'])).toEqual(['a', 'b']); // renewed; c is the other's
      await me.release(['a']);
      expect(await me.holder('a')).toBeNull();
      expect(await made.otherLeases.claim(['a'])).toEqual(['a']);
      // Releasing what someone else holds changes nothing.
      await me.release(['a', 'c']);
      expect(await me.holder('a')).toBe(made.otherLeases.holderId);
    });

    it('lets another holder take a lease its holder stopped renewing, once it expires', async () => {
      // (The lease's lifetime is kept by the store itself, Redis's own expiry included: no clock
      // here can be driven, so the test waits for time to pass and measures when the other got it.)
      const claimedAtMs = performance.now();
      expect(await stores.leases.claim(['a'])).toEqual(['a']);
      // Renewed half-way through its lifetime...
      await vi.waitFor(() => expect(performance.now() - claimedAtMs).toBeGreaterThanOrEqual(CONTRACT_LEASE_TTL_MS / 2), { timeout: CONTRACT_LEASE_TTL_MS * 2, interval: 10 });
      const renewedAtMs = performance.now();
      expect(await stores.leases.claim(['a'])).toEqual(['a']);
      expect(await made.otherLeases.claim(['a'])).toEqual([]);
      // ...it is held a whole lifetime from the renewal (not from the first claim), then expires
      // and the other holder takes it.
      await expect.poll(() => made.otherLeases.claim(['a']), { timeout: CONTRACT_LEASE_TTL_MS * 5, interval: 10 }).toEqual(['a']);
      expect(performance.now() - renewedAtMs).toBeGreaterThanOrEqual(CONTRACT_LEASE_TTL_MS * 0.9);
      expect(await stores.leases.claim(['a'])).toEqual([]);
    });

    it('saves a checkpoint only for the lease holder, states and where they stand together', async () => {
      const moved: RunnerState = { ...initialRunnerState('p1'), status: RunnerStatus.onCourse, distanceAlongRaceM: 500 };
      // Not held by anyone: refused.
      expect(await stores.runnerStates.checkpoint('a', [moved], { lastLogId: '5-0', seq: 3, sentSeq: 2, settings: null }, stores.leases.holderId)).toBe(false);
      await made.otherLeases.claim(['a']);
      expect(await stores.runnerStates.checkpoint('a', [moved], { lastLogId: '5-0', seq: 3, sentSeq: 2, settings: null }, stores.leases.holderId)).toBe(false);
      expect(await stores.runnerStates.loadRace('a')).toEqual([]);
      expect(await stores.runnerStates.loadCheckpoint('a')).toBeNull();
      await made.otherLeases.release(['a']);
      await stores.leases.claim(['a']);
      expect(await stores.runnerStates.checkpoint('a', [moved, initialRunnerState('p2')], { lastLogId: '7-1', seq: 4, sentSeq: 3, settings: { name: 'Renamed' } }, stores.leases.holderId)).toBe(true);
      moved.distanceAlongRaceM = 9999; // the store kept what it was given then
      expect(await stores.runnerStates.loadCheckpoint('a')).toEqual({ lastLogId: '7-1', seq: 4, sentSeq: 3, settings: { name: 'Renamed' } });
      expect((await stores.runnerStates.loadRace('a')).find((s) => s.participantId === 'p1')?.distanceAlongRaceM).toBe(500);
      expect(await stores.runnerStates.loadCheckpoint('b')).toBeNull();
      const both = await stores.runnerStates.loadCheckpointed('a');
      expect(both.meta).toEqual({ lastLogId: '7-1', seq: 4, sentSeq: 3, settings: { name: 'Renamed' } });
      expect(both.states.map((x) => x.participantId).sort()).toEqual(['p1', 'p2']);
      // An older checkpoint arriving late never lowers the numbers reserved.
      expect(await stores.runnerStates.checkpoint('a', [], { lastLogId: '6-0', seq: 2, sentSeq: 1, settings: null }, stores.leases.holderId)).toBe(false);
      expect((await stores.runnerStates.loadCheckpoint('a'))?.seq).toBe(4);
    });

    it('keeps a race\'s alerts as the last checkpoint that gave them, written only by the lease holder', async () => {
      const alert = (alertId: string, state: string) => ({ alertId, kind: 'silent', state, raceId: 'a', participantId: 'p1' });
      const meta = (seq: number) => ({ lastLogId: `${seq}-0`, seq, sentSeq: seq - 1, settings: null });
      expect((await stores.runnerStates.loadCheckpointed('a')).alerts).toEqual([]);
      // Not the holder: nothing written.
      expect(await stores.runnerStates.checkpoint('a', [], meta(1), stores.leases.holderId, [alert('x', 'open')])).toBe(false);
      expect((await stores.runnerStates.loadCheckpointed('a')).alerts).toEqual([]);
      await stores.leases.claim(['a']);
      const given = [alert('x', 'open'), alert('y', 'open')];
      expect(await stores.runnerStates.checkpoint('a', [], meta(2), stores.leases.holderId, given)).toBe(true);
      given[0]!.state = 'resolved'; // the store kept what it was given then
      expect((await stores.runnerStates.loadCheckpointed('a')).alerts).toEqual([alert('x', 'open'), alert('y', 'open')]);
      // A checkpoint without alerts leaves them as they were; one with alerts replaces them.
      expect(await stores.runnerStates.checkpoint('a', [], meta(3), stores.leases.holderId)).toBe(true);
      expect((await stores.runnerStates.loadCheckpointed('a')).alerts).toEqual([alert('x', 'open'), alert('y', 'open')]);
      expect(await stores.runnerStates.checkpoint('a', [], meta(4), stores.leases.holderId, [alert('x', 'resolved')])).toBe(true);
      expect(await stores.runnerStates.loadCheckpointed('a')).toMatchObject({ meta: meta(4), alerts: [alert('x', 'resolved')] });
      // A late, older checkpoint changes nothing, its alerts included.
      expect(await stores.runnerStates.checkpoint('a', [], meta(3), stores.leases.holderId, [])).toBe(false);
      expect((await stores.runnerStates.loadCheckpointed('a')).alerts).toEqual([alert('x', 'resolved')]);
      expect((await stores.runnerStates.loadCheckpointed('b')).alerts).toEqual([]);
    });

    it('tells the id of a race\'s newest entry', async () => {
      expect(await stores.pingLog.lastLogId('a')).toBeNull();
      await stores.pingLog.append(ping('a', 'p1', 1000));
      const ids = await Promise.all([2000, 3000].map((at) => stores.pingLog.append(ping('a', 'p1', at))));
      await stores.pingLog.append(ping('b', 'p2', 4000));
      expect(await stores.pingLog.lastLogId('a')).toBe(ids[1]);
    });

    it('trims a race\'s log before the entry holding an id, keeping that entry and the later ones, and no other race\'s', async () => {
      const ids: string[] = [];
      // One at a time: each its own entry.
      for (const at of [1000, 2000, 3000, 4000]) ids.push(await stores.pingLog.append(ping('a', 'p1', at)));
      await stores.pingLog.append(ping('b', 'p2', 5000));
      expect(await stores.pingLog.trimBefore('a', ids[2]!)).toBe(2);
      expect((await stores.pingLog.read('a')).map((p) => p.fix.recordedAtMs)).toEqual([3000, 4000]);
      expect((await stores.pingLog.readAfter('a', ids[2]!)).map((e) => e.logId)).toEqual([ids[3]]);
      expect(await stores.pingLog.count('b')).toBe(1);
      expect(await stores.pingLog.trimBefore('a', ids[2]!)).toBe(0);
    });

    it('keeps the audit in order, courses by digest, and races created once each, in the order they came', async () => {
      const { records } = stores;
      await records.appendAudit({ atMs: 1, by: 'organiser', action: 'race renamed', details: { raceId: 'a', name: 'A' } });
      await records.appendAudit({ atMs: 2, by: 'organiser', action: 'lap set', details: { lap: 3 } });
      expect((await records.audit()).map((e) => [e.atMs, e.action, e.details])).toEqual([
        [1, 'race renamed', { raceId: 'a', name: 'A' }],
        [2, 'lap set', { lap: 3 }],
      ]);
      await records.saveCourse('d1', { kind: 'street', coordinates: [[51.3, 35.7], [51.31, 35.7]] });
      expect(await records.loadCourse('d1')).toEqual({ kind: 'street', coordinates: [[51.3, 35.7], [51.31, 35.7]] });
      expect(await records.loadCourse('d2')).toBeNull();
      expect(await records.raceCount()).toBe(0);
      expect(await records.saveRace('r1', { id: 'r1', n: 1 })).toBe(true);
      expect(await records.saveRace('r1', { id: 'r1', n: 2 })).toBe(false);
      expect(await records.saveRace('r2', { id: 'r2' })).toBe(true);
      expect(await records.raceCount()).toBe(2);
      expect(await records.races()).toEqual([
        { raceId: 'r1', race: { id: 'r1', n: 1 } },
        { raceId: 'r2', race: { id: 'r2' } },
      ]);
    });
  });
}
