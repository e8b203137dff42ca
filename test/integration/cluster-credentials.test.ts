// What organisers and runners change about credentials, with two real server processes on the
// real Redis: live links (issued through one process, they work on the other and after both
// restart; a revocation through either holds on both, at once and after a restart), the secret
// the processes agree when LINK_SECRET is unset, device tokens issued and revoked by organisers
// (every process honours the change, and a revoked token never comes back), and road sections
// reopened by hand.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../shared/protocol.ts';
import { REDIS_URL, redis, removeRedisKeys } from '../support/requirements.ts';
import { startServerProcess, writeEventFile, type ServerProcess } from '../../simulations/server-process.ts';
import { testEventJson } from '../support/fixtures.ts';
import { TEST_ORGANISER_TOKEN } from '../support/test-server.ts';

const { available } = await redis();
const json = testEventJson(Date.now() - 10 * 60_000);
const eventFile = writeEventFile(json);
const deviceToken = json.races[0]!.participants[0]!.deviceToken;
const processes: ServerProcess[] = [];
const prefix = `test:${randomBytes(6).toString('hex')}`;

afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  if (available) await removeRedisKeys(prefix);
});

describe.skipIf(!available)('live links on two processes sharing Redis', () => {
  const env = { REDIS_URL, REDIS_PREFIX: prefix, LINK_SECRET: randomBytes(24).toString('hex'), ORGANISER_TOKEN: TEST_ORGANISER_TOKEN, TICK_MS: '200' };
  /** A process of the event (with LINK_SECRET), or, with `bare`, one on its own prefix without LINK_SECRET. */
  const start = async (bare?: { prefixSuffix: string; file?: string }) => {
    const server = bare
      ? await startServerProcess(bare.file ?? eventFile, { REDIS_URL, REDIS_PREFIX: `${prefix}:${bare.prefixSuffix}`, ORGANISER_TOKEN: TEST_ORGANISER_TOKEN, TICK_MS: '200' })
      : await startServerProcess(eventFile, env);
    processes.push(server);
    return server;
  };
  const organiser = { authorization: `Bearer ${TEST_ORGANISER_TOKEN}` };
  const device = { authorization: `Bearer ${deviceToken}` };
  // (Half an hour: an expiry that is not a whole number of hours must be taken too.)
  const issue = async (server: ServerProcess) => {
    const response = await fetch(`${server.url}/api/device/share-links`, {
      method: 'POST',
      headers: { ...device, 'content-type': 'application/json' },
      body: JSON.stringify({ validForHours: 0.5 }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: { linkId: string; link: string } }).data;
  };
  const follow = async (server: ServerProcess, link: string) => (await fetch(`${server.url}/api/follow`, { headers: { 'x-live-link': link } })).json() as Promise<{ ok: boolean; code?: string }>;
  const listed = async (server: ServerProcess) =>
    ((await (await fetch(`${server.url}/api/device/share-links`, { headers: device })).json()) as { data: { links: Array<{ linkId: string }> } }).data.links.map((l) => l.linkId);

  it('work on every process and after a restart; a revocation through either holds on both, at once and after a restart', async () => {
    const a = await start();
    const b = await start();
    const first = await issue(a);
    const second = await issue(b);
    // Each works on the process that did not issue it, and both are listed on both.
    expect(await follow(b, first.link)).toMatchObject({ ok: true });
    expect(await follow(a, second.link)).toMatchObject({ ok: true });
    expect((await listed(a)).sort()).toEqual([first.linkId, second.linkId].sort());
    expect((await listed(b)).sort()).toEqual([first.linkId, second.linkId].sort());

    // Revoked through B: refused by B at once, and by A as soon as the news is there.
    expect((await fetch(`${b.url}/api/device/share-links/${first.linkId}`, { method: 'DELETE', headers: device })).status).toBe(200);
    expect(await follow(b, first.link)).toMatchObject({ ok: false, code: ErrorCodes.LINK_REVOKED });
    await expect.poll(() => follow(a, first.link), { timeout: 5_000 }).toMatchObject({ ok: false, code: ErrorCodes.LINK_REVOKED });
    expect(await listed(a)).toEqual([second.linkId]);

    // Both processes gone and one started again: the revocation and the other link are still there.
    await Promise.all([a.kill(), b.kill()]);
    const again = await start();
    expect(await follow(again, first.link)).toMatchObject({ ok: false, code: ErrorCodes.LINK_REVOKED });
    expect(await follow(again, second.link)).toMatchObject({ ok: true });
    expect(await listed(again)).toEqual([second.linkId]);
    // An organiser's revocation goes the same way.
    expect((await fetch(`${again.url}/api/organiser/share-links/${second.linkId}`, { method: 'DELETE', headers: organiser })).status).toBe(200);
    expect(await follow(again, second.link)).toMatchObject({ ok: false, code: ErrorCodes.LINK_REVOKED });
  });
  it('without LINK_SECRET, agree one through Redis: generated device tokens and links are the same on every process and after a restart', async () => {
    // A participant the event file gives no device token.
    const withoutToken = testEventJson(Date.now() - 10 * 60_000);
    delete (withoutToken.races[0]!.participants[2] as { deviceToken?: string }).deviceToken;
    const file = writeEventFile(withoutToken);
    const startBare = () => start({ prefixSuffix: 'agreed', file });
    const tokenOf = async (server: ServerProcess) => {
      const body = (await (await fetch(`${server.url}/api/organiser/devices`, { headers: organiser })).json()) as { data: { devices: Array<{ participantId: string; deviceToken: string | null }> } };
      return body.data.devices.find((d) => d.participantId === 's-3')!.deviceToken;
    };
    const a = await startBare();
    const b = await startBare();
    expect(a.stdout()).toContain('Secret:          agreed through Redis');
    const token = await tokenOf(a);
    expect(token).toMatch(/^\S{16,}$/);
    expect(await tokenOf(b)).toBe(token);
    // A link issued through A, with the secret agreed, works on B.
    const response = await fetch(`${a.url}/api/organiser/participants/s-3/share-links`, {
      method: 'POST',
      headers: { ...organiser, 'content-type': 'application/json' },
      body: JSON.stringify({ validForHours: 1 }),
    });
    const { link } = ((await response.json()) as { data: { link: string } }).data;
    expect(await follow(b, link)).toMatchObject({ ok: true });
    // Both gone, one started again: the phone set up with the token, and the link, still work.
    await Promise.all([a.kill(), b.kill()]);
    const again = await startBare();
    expect(await tokenOf(again)).toBe(token);
    expect(await follow(again, link)).toMatchObject({ ok: true });
  });
  it('device tokens issued and revoked by organisers hold on every process and after a restart; a revoked token never comes back', async () => {
    const startBare = () => start({ prefixSuffix: 'devices' });
    const statusWith = async (server: ServerProcess, token: string) => (await fetch(`${server.url}/api/device/me`, { headers: { authorization: `Bearer ${token}` } })).status;
    const a = await startBare();
    const b = await startBare();
    expect(await statusWith(b, deviceToken)).toBe(200);

    // A lost phone: a new token issued through A; the old one stops on both, the new one works on both.
    const issued = await fetch(`${a.url}/api/organiser/participants/s-1/device-token`, { method: 'POST', headers: organiser });
    expect(issued.status).toBe(200);
    const fresh = ((await issued.json()) as { data: { deviceToken: string } }).data.deviceToken;
    expect(fresh).not.toBe(deviceToken);
    expect(await statusWith(a, fresh)).toBe(200);
    expect(await statusWith(a, deviceToken)).toBe(401);
    await expect.poll(() => statusWith(b, fresh), { timeout: 5_000 }).toBe(200);
    await expect.poll(() => statusWith(b, deviceToken), { timeout: 5_000 }).toBe(401);

    // Revoked through B: refused on A too, and after both restart.
    expect((await fetch(`${b.url}/api/organiser/participants/s-1/device-token`, { method: 'DELETE', headers: organiser })).status).toBe(200);
    await expect.poll(() => statusWith(a, fresh), { timeout: 5_000 }).toBe(401);
    await Promise.all([a.kill(), b.kill()]);
    const again = await startBare();
    expect(await statusWith(again, fresh)).toBe(401);
    expect(await statusWith(again, deviceToken)).toBe(401);
    const devices = (await (await fetch(`${again.url}/api/organiser/devices`, { headers: organiser })).json()) as { data: { devices: Array<{ participantId: string; deviceToken: string | null }> } };
    expect(devices.data.devices.find((d) => d.participantId === 's-1')!.deviceToken).toBeNull();
    // A new one, issued after the restart, is neither of the old ones and works.
    const next = ((await (await fetch(`${again.url}/api/organiser/participants/s-1/device-token`, { method: 'POST', headers: organiser })).json()) as { data: { deviceToken: string } }).data.deviceToken;
    expect([deviceToken, fresh]).not.toContain(next);
    expect(await statusWith(again, next)).toBe(200);
  });
  it('a road section reopened by hand through one process is reopened on the other, and after a restart', async () => {
    const a = await start({ prefixSuffix: 'sections' });
    const b = await start({ prefixSuffix: 'sections' });
    const stateOn = async (server: ServerProcess) => {
      const body = (await (await fetch(`${server.url}/api/organiser/sections`, { headers: organiser })).json()) as { data: { sections: Array<{ sectionId: string; state: string }> } };
      return body.data.sections.find((x) => x.sectionId === 'street-10k-km1')!.state;
    };
    expect(await stateOn(b)).not.toBe('reopened');
    // Forced: nobody has run it yet.
    expect((await fetch(`${a.url}/api/organiser/sections/street-10k-km1/reopen?force=true`, { method: 'POST', headers: organiser })).status).toBe(200);
    expect(await stateOn(a)).toBe('reopened');
    await expect.poll(() => stateOn(b), { timeout: 5_000 }).toBe('reopened');
    await Promise.all([a.kill(), b.kill()]);
    expect(await stateOn(await start({ prefixSuffix: 'sections' }))).toBe('reopened');
  });
});
