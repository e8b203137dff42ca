// Private live links: one runner, even in a private race, and nothing else of that race; signed,
// expiring, revocable.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, type Ack, type FollowSnapshot, type ShareLinkInfo } from '../../shared/protocol.ts';
import { decodeDelta, type RaceDelta } from '../../shared/wire.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { ShareLinks } from '../../server/share-links.ts';
import { testEvent } from '../support/fixtures.ts';
import {
  TEST_ORGANISER_TOKEN,
  connectDevice,
  connectSpectator,
  connected,
  startTestServer,
  type SpectatorSocket,
  type TestServer,
  deliveredTo,
  until,
} from '../support/test-server.ts';

let server: TestServer;
let event: LoadedEvent;
const sockets: Array<{ disconnect(): unknown }> = [];

beforeAll(async () => {
  event = await testEvent(Date.now() - 10 * 60_000);
  server = await startTestServer({ event });
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server.close();
});

const runner = (raceId: string, index: number) => event.races.find((r) => r.raceId === raceId)!.participants[index]!;

async function createLink(token: string, validForHours?: number, url = server.url): Promise<ShareLinkInfo & { link: string }> {
  const response = await fetch(`${url}/api/device/share-links`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(validForHours === undefined ? {} : { validForHours }),
  });
  const body = (await response.json()) as Ack<ShareLinkInfo & { link: string }>;
  if (!body.ok) throw new Error(body.message);
  return body.data;
}

async function follower(link: string, url = server.url): Promise<{ socket: SpectatorSocket; joined: Ack<FollowSnapshot>; deltas: RaceDelta[]; raceDeltas: string[] }> {
  const socket = connectSpectator(url);
  sockets.push(socket);
  await connected(socket);
  const deltas: RaceDelta[] = [];
  const raceDeltas: string[] = [];
  socket.on('follow:delta', (_raceId, bytes) => deltas.push(decodeDelta(bytes)));
  socket.on('race:delta', (raceId) => raceDeltas.push(raceId));
  const joined = (await socket.emitWithAck('follow:join', { link })) as Ack<FollowSnapshot>;
  return { socket, joined, deltas, raceDeltas };
}

async function move(raceId: string, index: number, distanceM: number): Promise<void> {
  const race = event.races.find((r) => r.raceId === raceId)!;
  const device = connectDevice(server.url, race.participants[index]!.deviceToken);
  sockets.push(device);
  await connected(device);
  const [lon, lat] = race.course.path.pointAtRaceDistance(distanceM);
  const ack = await (device as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> }).emitWithAck('position', {
    lon,
    lat,
    recordedAtMs: Date.now(),
    accuracyM: 5,
  });
  if (!ack.ok) throw new Error(ack.message);
  device.disconnect();
}


describe('private live links', () => {
  it('let anyone holding one follow that runner of a private race, and nothing else of it', async () => {
    const link = await createLink(runner('loop-32k', 0).deviceToken);
    expect(link.path).toBe(`/follow.html#link=${encodeURIComponent(link.link)}`);
    const { socket, joined, deltas, raceDeltas } = await follower(link.link);
    expect(joined).toMatchObject({ ok: true, data: { raceId: 'loop-32k', runner: { participantId: 'p-1' }, course: { courseKind: 'loop' } } });

    await move('loop-32k', 1, 300); // another runner of the same race
    await move('loop-32k', 0, 320); // the followed runner
    await until(() => deltas.length > 0);
    await deliveredTo(server, socket);
    expect(deltas.flatMap((d) => d.entries.map((e) => e.runnerIndex))).toEqual([0]);
    expect(raceDeltas).toEqual([]);
    // The link does not open the race itself.
    expect(await socket.emitWithAck('race:join', { raceId: 'loop-32k' })).toMatchObject({ ok: false, code: ErrorCodes.UNKNOWN_RACE });

    const http = (await (await fetch(`${server.url}/api/follow?link=${encodeURIComponent(link.link)}`)).json()) as Ack<FollowSnapshot>;
    expect(http).toMatchObject({ ok: true, data: { runner: { participantId: 'p-1', status: 1 } } });
    expect(JSON.stringify(http)).not.toContain('p-2');
  });

  it('carry the followed runner\'s crossing times and no one else\'s', async () => {
    // A server of its own, so that both runners start this test unseen.
    const own = await startTestServer({ event, shareLinks: server.shareLinks });
    try {
      const link = await createLink(runner('loop-32k', 0).deviceToken, undefined, own.url);
      const { deltas } = await follower(link.link, own.url);
      const organiserRoom = connectSpectator(own.url, { organiserToken: TEST_ORGANISER_TOKEN });
      sockets.push(organiserRoom);
      await connected(organiserRoom);
      await organiserRoom.emitWithAck('race:join', { raceId: 'loop-32k' });
      const crossingsPerDelta: number[][] = [];
      organiserRoom.on('race:delta', (_raceId, bytes) => crossingsPerDelta.push(decodeDelta(bytes).crossings.map((c) => c.runnerIndex)));
      // Both runners over the first lap line (700 m) in the same tick: one delta has both crossings.
      const nowMs = Date.now();
      const fixes = Array.from({ length: 11 }, (_, k) => {
        const [lon, lat] = event.races[2]!.course.path.pointAtRaceDistance(600 + k * 20);
        return { lon, lat, recordedAtMs: nowMs - (10 - k) * 5000, accuracyM: 5 };
      });
      const acks = await Promise.all([1, 0].map((index) => own.service.ingestFixes(own.service.participant(runner('loop-32k', index).participantId)!, fixes)));
      expect(acks.flat().every((ack) => ack.ok)).toBe(true);
      await until(() => crossingsPerDelta.some((runners) => runners.includes(0) && runners.includes(1)));
      await until(() => deltas.some((d) => d.crossings.length > 0));
      expect(deltas.flatMap((d) => d.crossings).map((c) => [c.runnerIndex, c.pointIndex])).toEqual([[0, 0]]);
    } finally {
      await own.close();
    }
  });

  it('are bounded per runner: past 20 at once a new one is refused until one is revoked', async () => {
    const token = runner('track-10k', 2).deviceToken;
    const links = [];
    for (let i = 0; i < 20; i++) links.push(await createLink(token));
    const refused = await fetch(`${server.url}/api/device/share-links`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(refused.status).toBe(507);
    expect(await refused.json()).toMatchObject({ ok: false, code: ErrorCodes.CAPACITY_REACHED });
    const list = (await (await fetch(`${server.url}/api/device/share-links`, { headers: { authorization: `Bearer ${token}` } })).json()) as Ack<{ links: unknown[] }>;
    expect(list.ok && list.data.links).toHaveLength(20);
    // The ones already made keep working; revoking one makes room.
    expect((await fetch(`${server.url}/api/follow?link=${encodeURIComponent(links[0]!.link)}`)).status).toBe(200);
    await fetch(`${server.url}/api/device/share-links/${links[1]!.linkId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect((await createLink(token)).linkId).toEqual(expect.any(String));
  });

  it('refuses an altered link and one signed by another server', async () => {
    const link = await createLink(runner('loop-32k', 0).deviceToken);
    const [payload, signature] = link.link.split('.');
    const forged = Buffer.from(JSON.stringify([1, 'x', 'loop-32k', 'p-2', Date.now() + 3600_000])).toString('base64url');
    const foreign = (await new ShareLinks(randomBytes(32)).issue('loop-32k', 'p-1', Date.now() + 3600_000, Date.now()))!.token;
    for (const bad of [`${forged}.${signature}`, `${payload}.${signature!.slice(0, -2)}AA`, foreign, 'nonsense', `${payload}`]) {
      const { joined } = await follower(bad);
      expect(joined).toMatchObject({ ok: false, code: ErrorCodes.LINK_INVALID });
      const response = await fetch(`${server.url}/api/follow?link=${encodeURIComponent(bad)}`);
      expect(response.status).toBe(403);
    }
  });

  it('refuses an expired link', async () => {
    const link = await createLink(runner('street-10k', 0).deviceToken, 0.0002); // 0.72 s
    const view = async () => (await fetch(`${server.url}/api/follow?link=${encodeURIComponent(link.link)}`)).status;
    await expect.poll(view, { timeout: 5000 }).toBe(410);
    const { joined } = await follower(link.link);
    expect(joined).toMatchObject({ ok: false, code: ErrorCodes.LINK_EXPIRED, message: expect.stringMatching(/expired/) });
    expect((await fetch(`${server.url}/api/follow?link=${encodeURIComponent(link.link)}`)).status).toBe(410);
  });

  it('ends a link that expires while someone follows it', async () => {
    const link = await createLink(runner('street-10k', 1).deviceToken, 0.0003); // about 1 s
    const { socket, joined } = await follower(link.link);
    expect(joined.ok).toBe(true);
    const ended = await new Promise((resolve) => socket.once('follow:ended', resolve));
    expect(ended).toMatchObject({ code: ErrorCodes.LINK_EXPIRED });
  });

  it('is revoked by its runner, and those following it are told', async () => {
    const token = runner('street-10k', 2).deviceToken;
    const link = await createLink(token);
    const { socket, joined, deltas } = await follower(link.link);
    expect(joined.ok).toBe(true);
    const ended = new Promise((resolve) => socket.once('follow:ended', resolve));

    const listed = (await (await fetch(`${server.url}/api/device/share-links`, { headers: { authorization: `Bearer ${token}` } })).json()) as Ack<{
      links: ShareLinkInfo[];
    }>;
    expect(listed.ok && listed.data.links.map((l) => l.linkId)).toContain(link.linkId);
    // Another runner cannot revoke it.
    const otherToken = runner('street-10k', 0).deviceToken;
    const notTheirs = await fetch(`${server.url}/api/device/share-links/${link.linkId}`, { method: 'DELETE', headers: { authorization: `Bearer ${otherToken}` } });
    expect(notTheirs.status).toBe(404);

    const revoked = await fetch(`${server.url}/api/device/share-links/${link.linkId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(revoked.status).toBe(200);
    expect(await ended).toMatchObject({ code: ErrorCodes.LINK_REVOKED });
    await move('street-10k', 2, 400);
    await deliveredTo(server, socket);
    expect(deltas).toEqual([]);
    const again = await follower(link.link);
    expect(again.joined).toMatchObject({ ok: false, code: ErrorCodes.LINK_REVOKED });
  });

  it('keeps following through a second link when the first is revoked', async () => {
    const token = runner('street-10k', 1).deviceToken;
    const first = await createLink(token);
    const second = await createLink(token);
    const { socket, deltas } = await follower(first.link);
    expect(await socket.emitWithAck('follow:join', { link: second.link })).toMatchObject({ ok: true });
    const ended = new Promise((resolve) => socket.once('follow:ended', resolve));
    await fetch(`${server.url}/api/device/share-links/${first.linkId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(await ended).toMatchObject({ code: ErrorCodes.LINK_REVOKED });
    await move('street-10k', 1, 450);
    await until(() => deltas.length > 0);
    expect(deltas.at(-1)!.entries[0]!.runnerIndex).toBe(1);
  });

  it('is refused by a server that did not issue it, with the same secret but its own memory (revocations there are not shared)', async () => {
    const secret = randomBytes(32);
    const before = (await new ShareLinks(secret).issue('street-10k', 's-1', Date.now() + 3600_000, Date.now()))!;
    expect(new ShareLinks(secret).check(before.token, Date.now())).toMatchObject({ ok: false, code: ErrorCodes.LINK_INVALID });
  });

  it('can be created and revoked by organisers for a runner', async () => {
    const organiser = { authorization: `Bearer ${TEST_ORGANISER_TOKEN}`, 'content-type': 'application/json' };
    const created = await fetch(`${server.url}/api/organiser/participants/t-1/share-links`, { method: 'POST', headers: organiser, body: '{"validForHours": 2}' });
    expect(created.status).toBe(201);
    const { data } = (await created.json()) as { data: ShareLinkInfo & { link: string } };
    expect(data.expiresAtMs - Date.now()).toBeGreaterThan(7100_000);
    expect((await follower(data.link)).joined).toMatchObject({ ok: true, data: { runner: { participantId: 't-1' } } });
    expect((await fetch(`${server.url}/api/organiser/share-links/${data.linkId}`, { method: 'DELETE', headers: organiser })).status).toBe(200);
    expect((await follower(data.link)).joined).toMatchObject({ ok: false, code: ErrorCodes.LINK_REVOKED });
    const tooLong = await fetch(`${server.url}/api/organiser/participants/t-1/share-links`, { method: 'POST', headers: organiser, body: '{"validForHours": 1000}' });
    expect(tooLong.status).toBe(400);
    const noToken = await fetch(`${server.url}/api/device/share-links`, { method: 'POST' });
    expect(noToken.status).toBe(401);
  });
});
