// Changes at short notice: a runner out of the race, a new start time, a race made private; each
// applied at once, pushed to the race's room, and recorded with who and when.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, RunnerStatus, type Ack, type RaceChangeNotice, type RaceSnapshot } from '../../shared/protocol.ts';
import { decodeDelta, type DeltaEntry } from '../../shared/wire.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { addedTrackRace, testEvent, testDeviceToken } from '../support/fixtures.ts';
import { TEST_ORGANISER_TOKEN, connectDevice, connectSpectator, connected, deliveredTo, startTestServer, type TestServer } from '../support/test-server.ts';

let server: TestServer;
let event: LoadedEvent;
const organiser = { authorization: `Bearer ${TEST_ORGANISER_TOKEN}`, 'content-type': 'application/json' };

beforeAll(async () => {
  event = await testEvent(Date.now() - 10 * 60_000);
  server = await startTestServer({ event });
});
afterAll(async () => {
  await server.close();
});

const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = organiser) => {
  const response = await fetch(`${server.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: (await response.json()) as Ack<unknown> };
};

describe('changes at short notice', () => {
  it('takes a runner out of the race: the room is told, fixes no longer move them, sections stop waiting', async () => {
    const watcher = connectSpectator(server.url);
    await connected(watcher);
    await watcher.emitWithAck('race:join', { raceId: 'street-10k' });
    const entries: DeltaEntry[] = [];
    watcher.on('race:delta', (_raceId, bytes) => entries.push(...decodeDelta(bytes).entries));

    const sectionsBefore = (await call('GET', '/api/organiser/sections')).body as Ack<{ sections: Array<{ runnersToPass: number }> }>;
    expect((await call('POST', '/api/organiser/participants/s-3/outcome', { outcome: 'dnf' }, { 'content-type': 'application/json' })).status).toBe(401);
    expect((await call('POST', '/api/organiser/participants/s-3/outcome', { outcome: 'dnf' })).status).toBe(200);
    await expect.poll(() => entries).toContainEqual({ runnerIndex: 2, distanceAlongRaceM: 0, status: RunnerStatus.dnf });
    const sectionsAfter = (await call('GET', '/api/organiser/sections')).body as Ack<{ sections: Array<{ runnersToPass: number }> }>;
    if (!sectionsBefore.ok || !sectionsAfter.ok) throw new Error('refused');
    expect(sectionsAfter.data.sections[9]!.runnersToPass).toBe(sectionsBefore.data.sections[9]!.runnersToPass - 1);

    const device = connectDevice(server.url, event.races[0]!.participants[2]!.deviceToken);
    await connected(device);
    const [lon, lat] = event.races[0]!.course.path.pointAtRaceDistance(1200);
    const ack = await (device as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<{ applied: boolean; status: number }>> }).emitWithAck(
      'position',
      { lon, lat, recordedAtMs: Date.now() },
    );
    expect(ack).toMatchObject({ ok: true, data: { applied: false, status: RunnerStatus.dnf } });
    expect((await call('POST', '/api/organiser/participants/s-3/outcome', { outcome: 'finished' })).status).toBe(400);
    expect((await call('POST', '/api/organiser/participants/nobody/outcome', { outcome: 'dnf' })).status).toBe(404);
    device.disconnect();
    watcher.disconnect();
  });

  it('makes a public race private: spectators without the key are out, with the key they join again', async () => {
    const watcher = connectSpectator(server.url);
    await connected(watcher);
    const joined = (await watcher.emitWithAck('race:join', { raceId: 'track-10k' })) as Ack<RaceSnapshot>;
    expect(joined.ok).toBe(true);
    const notice = new Promise<RaceChangeNotice>((resolve) => watcher.once('race:changed', resolve));
    expect((await call('PATCH', '/api/races/track-10k', { private: true })).status).toBe(404);
    expect((await call('PATCH', '/api/organiser/races/track-10k', { private: true })).status).toBe(400); // no key
    const changed = await call('PATCH', '/api/organiser/races/track-10k', { private: true, key: 'new-track-key-0123456789' });
    expect(changed).toMatchObject({ status: 200, body: { ok: true, data: { isPrivate: true } } });
    expect(await notice).toEqual({ raceId: 'track-10k', what: 'access' });
    expect(await watcher.emitWithAck('race:join', { raceId: 'track-10k' })).toMatchObject({ ok: false, code: ErrorCodes.UNKNOWN_RACE });
    expect(await watcher.emitWithAck('race:join', { raceId: 'track-10k', key: 'new-track-key-0123456789' })).toMatchObject({ ok: true });
    const listed = (await (await fetch(`${server.url}/api/races`)).json()) as Ack<{ races: Array<{ raceId: string }> }>;
    expect(listed.ok && listed.data.races.map((r) => r.raceId)).not.toContain('track-10k');
    watcher.disconnect();
  });

  it('moves a runner to another race: the old room hears of them no more, they start afresh on the new course', async () => {
    const streetWatcher = connectSpectator(server.url);
    const trackWatcher = connectSpectator(server.url);
    await Promise.all([connected(streetWatcher), connected(trackWatcher)]);
    // The track race was made private above, with this key.
    await trackWatcher.emitWithAck('race:join', { raceId: 'track-10k', key: 'new-track-key-0123456789' });
    const streetJoined = (await streetWatcher.emitWithAck('race:join', { raceId: 'loop-32k', key: 'test-private-race-key-42' })) as Ack<RaceSnapshot>;
    expect(streetJoined.ok && streetJoined.data.runners.map((r) => r.participantId)).toContain('p-2');
    const loopNotice = new Promise<RaceChangeNotice>((resolve) => streetWatcher.once('race:changed', resolve));
    const trackNotice = new Promise<RaceChangeNotice>((resolve) => trackWatcher.once('race:changed', resolve));
    const device = connectDevice(server.url, event.races[2]!.participants[1]!.deviceToken);
    await connected(device);

    const moved = await call('POST', '/api/organiser/participants/p-2/move', { raceId: 'track-10k' });
    expect(moved).toMatchObject({ status: 200, body: { ok: true, data: { participantId: 'p-2', raceId: 'track-10k' } } });
    expect(await loopNotice).toEqual({ raceId: 'loop-32k', what: 'roster' });
    expect(await trackNotice).toEqual({ raceId: 'track-10k', what: 'roster' });
    const loopAfter = (await streetWatcher.emitWithAck('race:join', { raceId: 'loop-32k', key: 'test-private-race-key-42' })) as Ack<RaceSnapshot>;
    expect(loopAfter.ok && loopAfter.data.runners.map((r) => r.participantId)).not.toContain('p-2');
    const trackAfter = (await trackWatcher.emitWithAck('race:join', { raceId: 'track-10k', key: 'new-track-key-0123456789' })) as Ack<RaceSnapshot>;
    if (!trackAfter.ok) throw new Error(trackAfter.message);
    const entry = trackAfter.data.runners.find((r) => r.participantId === 'p-2')!;
    expect(entry).toMatchObject({ status: RunnerStatus.notStarted, distanceAlongRaceM: 0 });

    // The same device, already connected, now places the runner on the track.
    const loopDeltas: number[] = [];
    streetWatcher.on('race:delta', (_id, bytes) => loopDeltas.push(...decodeDelta(bytes).entries.map((e) => e.runnerIndex)));
    const trackEntries: DeltaEntry[] = [];
    trackWatcher.on('race:delta', (_id, bytes) => trackEntries.push(...decodeDelta(bytes).entries));
    const [lon, lat] = event.races[1]!.course.path.pointAtRaceDistance(150);
    const ack = await (device as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<{ applied: boolean }>> }).emitWithAck('position', {
      lon,
      lat,
      recordedAtMs: Date.now(),
      accuracyM: 5,
    });
    expect(ack).toMatchObject({ ok: true, data: { applied: true } });
    await expect.poll(() => trackEntries.some((e) => e.runnerIndex === entry.runnerIndex && e.status === RunnerStatus.onCourse)).toBe(true);
    await deliveredTo(server, streetWatcher);
    expect(loopDeltas).toEqual([]);
    expect((await call('POST', '/api/organiser/participants/p-2/move', { raceId: 'nope' })).status).toBe(404);
    device.disconnect();
    streetWatcher.disconnect();
    trackWatcher.disconnect();
  });

  it('creates a race while the event runs, with its own runners and devices, and renames it', async () => {
    const race = addedTrackRace([{ id: 'n-1', bib: 'N1', name: 'New Runner', deviceToken: 'token-new-runner-0123456789' }]);
    expect((await call('POST', '/api/organiser/races', race, { 'content-type': 'application/json' })).status).toBe(401);
    const created = await call('POST', '/api/organiser/races', race);
    expect(created).toMatchObject({ status: 201, body: { ok: true, data: { raceId: 'women-5k-added', courseKind: 'track', participantCount: 1 } } });
    const again = await call('POST', '/api/organiser/races', { ...race, participants: [{ id: 's-1', bib: 'X', name: 'X', deviceToken: testDeviceToken('s-1') }] });
    expect(again.status).toBe(400);
    expect((again.body as unknown as { problems: string[] }).problems).toEqual([
      'race.id: race id "women-5k-added" is already used',
      'participant id "s-1" is already used',
      'the device token of "s-1" is already used',
    ]);
    const badCourse = await call('POST', '/api/organiser/races', { ...race, id: 'bad', course: { kind: 'street', file: '/etc/passwd' } });
    expect(badCourse.status).toBe(400);
    expect((badCourse.body as unknown as { problems: string[] }).problems.join()).toMatch(/not as a file name/);

    // Its runner's device works at once, on the new race's course.
    const device = connectDevice(server.url, 'token-new-runner-0123456789');
    await connected(device);
    const course = (await (await fetch(`${server.url}/api/races/women-5k-added/course`)).json()) as Ack<{ lapCoordinates: [number, number][] }>;
    if (!course.ok) throw new Error(course.message);
    const [lon, lat] = course.data.lapCoordinates[20]!;
    const ack = await (device as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<{ applied: boolean; status: number }>> }).emitWithAck('position', {
      lon,
      lat,
      recordedAtMs: Date.now(),
      accuracyM: 5,
    });
    expect(ack).toMatchObject({ ok: true, data: { applied: true, status: RunnerStatus.onCourse } });
    device.disconnect();
    const renamed = await call('PATCH', '/api/organiser/races/women-5k-added', { name: "Women's 5 km" });
    expect(renamed).toMatchObject({ status: 200, body: { ok: true, data: { name: "Women's 5 km" } } });
  });

  it('moves a start time, and records every change with who made it and when', async () => {
    const startsAt = new Date(Date.now() + 3600_000).toISOString();
    const changed = await call('PATCH', '/api/organiser/races/street-10k', { startsAt });
    expect(changed).toMatchObject({ status: 200, body: { ok: true, data: { startsAtMs: Date.parse(startsAt) } } });
    expect((await call('PATCH', '/api/organiser/races/street-10k', { startsAt: 'tomorrow' })).status).toBe(400);
    const audit = (await call('GET', '/api/organiser/audit')).body as Ack<{ entries: Array<{ action: string; by: string; atMs: number }> }>;
    if (!audit.ok) throw new Error(audit.message);
    expect(audit.data.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['participant dnf', 'race made private', 'participant moved', 'race created', 'race renamed', 'start time changed']),
    );
    expect(audit.data.entries.every((e) => e.by === 'organiser' && Math.abs(e.atMs - Date.now()) < 60_000)).toBe(true);
  });
});
