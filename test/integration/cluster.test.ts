// Faults with real server processes and the real Redis: a process killed with SIGKILL mid-race
// and started again, two processes with the lease holder killed, and Redis itself going away.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDelta } from '../../shared/wire.ts';
import type { Ack, PositionAccepted, RaceSnapshot } from '../../shared/protocol.ts';
import { loadEventFile } from '../../server/event/event-file.ts';
import { silentLogger } from '../../server/logger.ts';
import { createRedisStores } from '../../server/ports/redis-stores.ts';
import { REDIS_URL, redis, removeRedisKeys } from '../support/requirements.ts';
import { startOwnRedis, startServerProcess, writeEventFile, type ServerProcess } from '../../simulations/server-process.ts';
import { testEventJson } from '../support/fixtures.ts';
import { TEST_ORGANISER_TOKEN, connectDevice, connectSpectator, connected, type DeviceSocket, type SpectatorSocket } from '../support/test-server.ts';

const { available } = await redis();
const RACE = 'street-10k';
const eventFile = writeEventFile(testEventJson(Date.now() - 10 * 60_000));
const event = await loadEventFile(eventFile);
const course = event.races.find((r) => r.raceId === RACE)!.course;
const participants = event.races.find((r) => r.raceId === RACE)!.participants;
const processes: ServerProcess[] = [];
const prefixes: string[] = [];

afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  if (available) await removeRedisKeys(...prefixes);
});

async function start(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess(eventFile, { ORGANISER_TOKEN: TEST_ORGANISER_TOKEN, TICK_MS: '200', ...env });
  processes.push(server);
  return server;
}

function newPrefix(): string {
  const prefix = `test:${randomBytes(6).toString('hex')}`;
  prefixes.push(prefix);
  return prefix;
}

/** A runner moving along the course at 3 m/s, a fix every 200 ms, through one server or another. */
function runner(participantIndex: number, startM: number) {
  const participant = participants[participantIndex]!;
  const startedAtMs = Date.now();
  const acked: Array<{ recordedAtMs: number; distanceAlongRaceM: number }> = [];
  const refused: string[] = [];
  let device: DeviceSocket | null = null;
  let timer: NodeJS.Timeout | null = null;
  const send = () => {
    const socket = device;
    if (!socket?.connected) return;
    const recordedAtMs = Date.now();
    const [lon, lat] = course.path.pointAtRaceDistance(startM + ((recordedAtMs - startedAtMs) / 1000) * 3);
    socket
      .timeout(8000)
      .emitWithAck('position', { lon, lat, recordedAtMs, accuracyM: 5, speedMps: 3 })
      .then((ack: Ack<PositionAccepted>) => {
        if (ack.ok) acked.push({ recordedAtMs, distanceAlongRaceM: ack.data.distanceAlongRaceM });
        else refused.push(ack.code);
      })
      .catch(() => refused.push('no answer'));
  };
  return {
    participantId: participant.participantId,
    acked,
    refused,
    async through(url: string) {
      device?.disconnect();
      device = connectDevice(url, participant.deviceToken);
      await connected(device);
      timer ??= setInterval(send, 200);
    },
    stop() {
      if (timer) clearInterval(timer);
      device?.disconnect();
    },
  };
}

/** A spectator of the race on one server: its snapshot, then every delta, checked as it comes. */
async function spectator(url: string) {
  const socket: SpectatorSocket = connectSpectator(url);
  await connected(socket);
  const view = {
    socket,
    seq: -1,
    /** The highest delta number received: a delta at or below it would be one sent twice. */
    maxDeltaSeq: -1,
    distanceOf: new Map<number, number>(),
    deltasReceived: 0,
    backwardSteps: [] as string[],
    repeatedSeqs: [] as number[],
    gaps: 0,
    lastDeltaAtMs: 0,
  };
  const applySnapshot = (snapshot: RaceSnapshot) => {
    for (const r of snapshot.runners) {
      const before = view.distanceOf.get(r.runnerIndex);
      if (before !== undefined && r.distanceAlongRaceM < before) view.backwardSteps.push(`snapshot ${snapshot.seq}: runner ${r.runnerIndex} ${before} -> ${r.distanceAlongRaceM}`);
      view.distanceOf.set(r.runnerIndex, r.distanceAlongRaceM);
    }
    // A snapshot's number may be a little behind the deltas already seen (another process serves
    // it); the client then resyncs at the next delta. Its positions must never be behind.
    view.seq = snapshot.seq;
  };
  socket.on('race:delta', (_raceId, bytes) => {
    const delta = decodeDelta(bytes);
    view.deltasReceived += 1;
    view.lastDeltaAtMs = Date.now();
    if (delta.seq <= view.maxDeltaSeq) view.repeatedSeqs.push(delta.seq);
    view.maxDeltaSeq = Math.max(view.maxDeltaSeq, delta.seq);
    if (delta.seq > view.seq + 1) view.gaps += 1; // a client resyncs here; the distances must still never go back
    for (const e of delta.entries) {
      const before = view.distanceOf.get(e.runnerIndex) ?? 0;
      if (e.distanceAlongRaceM < before) view.backwardSteps.push(`delta ${delta.seq}: runner ${e.runnerIndex} ${before} -> ${e.distanceAlongRaceM}`);
      view.distanceOf.set(e.runnerIndex, e.distanceAlongRaceM);
    }
    view.seq = Math.max(view.seq, delta.seq);
  });
  const join = async (s: SpectatorSocket) => {
    const ack = await s.timeout(5000).emitWithAck('race:join', { raceId: RACE });
    if (!ack.ok) throw new Error(`join refused: ${ack.code}`);
    applySnapshot(ack.data);
  };
  await join(socket);
  return {
    view,
    /** Connects again to another server (its own was killed), as the page does, and joins again. */
    async reconnect(to: string) {
      view.socket.disconnect();
      const next = connectSpectator(to);
      await connected(next);
      next.on('race:delta', socket.listeners('race:delta')[0]!);
      view.socket = next;
      await join(next);
    },
    close: () => view.socket.disconnect(),
  };
}

const leaseHolder = async (prefix: string): Promise<string | null> => {
  const admin = new Redis(REDIS_URL);
  try {
    return await admin.get(`${prefix}:race:${RACE}:lease`);
  } finally {
    admin.disconnect();
  }
};

const loggedPings = async (url: string, prefix: string) => {
  const stores = await createRedisStores({ url, keyPrefix: prefix, logger: silentLogger });
  try {
    return await stores.pingLog.read(RACE);
  } finally {
    await stores.close();
  }
};

describe.skipIf(!available)('a server process killed with SIGKILL mid-race and started again', () => {
  it('has every acknowledged ping, continues each runner from where they were, and its spectators resync', async () => {
    const prefix = newPrefix();
    const env = { REDIS_URL, REDIS_PREFIX: prefix };
    const first = await start(env);
    const runners = [runner(0, 1500), runner(1, 2500)];
    for (const r of runners) await r.through(first.url);
    const watcher = await spectator(first.url);
    await expect.poll(() => watcher.view.deltasReceived, { timeout: 10_000, interval: 100 }).toBeGreaterThan(3);
    await expect.poll(() => runners.every((r) => r.acked.length > 5), { timeout: 10_000, interval: 100 }).toBe(true);

    await first.kill('SIGKILL');
    const seenBefore = new Map(watcher.view.distanceOf);
    const ackedBefore = runners.map((r) => [...r.acked]);
    expect(ackedBefore.every((a) => a.length > 5)).toBe(true);

    // Every acknowledged ping is in the log, the moment the process is gone.
    const logged = await loggedPings(REDIS_URL, prefix);
    runners.forEach((r, i) => {
      const times = new Set(logged.filter((p) => p.participantId === r.participantId).map((p) => p.fix.recordedAtMs));
      expect(ackedBefore[i]!.filter((a) => !times.has(a.recordedAtMs))).toEqual([]);
    });

    const second = await start(env);
    await watcher.reconnect(second.url);
    // The snapshot shows each runner at least where the spectator last saw them.
    expect(watcher.view.backwardSteps).toEqual([]);
    for (const [index, distance] of seenBefore) expect(watcher.view.distanceOf.get(index)).toBeGreaterThanOrEqual(distance);

    for (const r of runners) await r.through(second.url);
    const deltasAtRestart = watcher.view.deltasReceived;
    // The killed process's lease runs out (5 s) before the new one writes the race: until then its
    // runners are answered and logged, and the deltas resume afterwards.
    await expect.poll(() => watcher.view.deltasReceived, { timeout: 12_000, interval: 200 }).toBeGreaterThan(deltasAtRestart + 3);
    runners.forEach((r, i) => {
      const lastBefore = ackedBefore[i]!.at(-1)!.distanceAlongRaceM;
      const after = r.acked.slice(ackedBefore[i]!.length);
      expect(after.length).toBeGreaterThan(3);
      // Continued from where the runner was, not found again from the start.
      expect(after[0]!.distanceAlongRaceM).toBeGreaterThanOrEqual(lastBefore);
      expect(after.at(-1)!.distanceAlongRaceM).toBeGreaterThan(lastBefore);
    });
    expect(watcher.view.backwardSteps).toEqual([]);
    expect(watcher.view.repeatedSeqs).toEqual([]);
    for (const r of runners) r.stop();
    watcher.close();
  }, 60_000);
});

describe.skipIf(!available)('two server processes, and the lease holder killed', () => {
  it('carries the race to spectators on both; the other process takes the race over within 10 s with no backward step', async () => {
    const prefix = newPrefix();
    const env = { REDIS_URL, REDIS_PREFIX: prefix };
    const a = await start(env);
    await expect.poll(() => leaseHolder(prefix), { timeout: 10_000 }).toBe(a.holderId);
    const b = await start(env);

    // The runner sends through B; A writes the race; spectators on both receive it.
    const runners = [runner(0, 1500), runner(1, 2200)];
    for (const r of runners) await r.through(b.url);
    const onA = await spectator(a.url);
    const onB = await spectator(b.url);
    for (const w of [onA, onB]) {
      await expect.poll(() => w.view.deltasReceived, { timeout: 10_000, interval: 100 }).toBeGreaterThan(5);
      await expect.poll(() => w.view.distanceOf.get(0) ?? 0, { timeout: 10_000, interval: 100 }).toBeGreaterThan(1500);
    }
    expect(await leaseHolder(prefix)).toBe(a.holderId);

    const killedAtMs = Date.now();
    await a.kill('SIGKILL');
    const seqAtKill = onB.view.seq;
    await expect.poll(() => leaseHolder(prefix), { timeout: 10_000, interval: 100 }).toBe(b.holderId);
    // B sends the race's deltas again, within 10 s of the kill.
    await expect
      .poll(() => onB.view.seq > seqAtKill && onB.view.lastDeltaAtMs > killedAtMs, { timeout: Math.max(500, 10_000 - (Date.now() - killedAtMs)), interval: 100 })
      .toBe(true);
    const takeOverMs = onB.view.lastDeltaAtMs - killedAtMs;
    expect(takeOverMs).toBeLessThan(10_000);
    console.info(`take-over: B's first delta ${takeOverMs} ms after A was killed`);

    // A's spectator connects to B and continues.
    await onA.reconnect(b.url);
    const deltasA = onA.view.deltasReceived;
    const deltasB = onB.view.deltasReceived;
    await expect.poll(() => onA.view.deltasReceived, { timeout: 10_000, interval: 100 }).toBeGreaterThan(deltasA + 3);
    await expect.poll(() => onB.view.deltasReceived, { timeout: 10_000, interval: 100 }).toBeGreaterThan(deltasB + 3);
    for (const [name, w] of [['A\'s spectator', onA], ['B\'s spectator', onB]] as const) {
      expect(w.view.backwardSteps, `${name}: backward steps`).toEqual([]);
      expect(w.view.repeatedSeqs, `${name}: sequence numbers seen twice`).toEqual([]);
    }
    expect(onA.view.deltasReceived, 'deltas to A\'s spectator after it joined B').toBeGreaterThan(deltasA + 3);
    expect(onB.view.deltasReceived, 'deltas to B\'s spectator after the take-over').toBeGreaterThan(deltasB + 3);
    // No ping was refused on the way, and none acknowledged was lost.
    for (const r of runners) expect(r.refused, `fixes of ${r.participantId} refused`).toEqual([]);
    // What was acknowledged before the log is read: the runners go on sending meanwhile, and a fix
    // acknowledged after the read is not missing from it.
    const ackedBeforeRead = runners.map((r) => [...r.acked]);
    const logged = await loggedPings(REDIS_URL, prefix);
    runners.forEach((r, i) => {
      const times = new Set(logged.filter((p) => p.participantId === r.participantId).map((p) => p.fix.recordedAtMs));
      expect(ackedBeforeRead[i]!.filter((x) => !times.has(x.recordedAtMs))).toEqual([]);
    });
    for (const r of runners) r.stop();
    onA.close();
    onB.close();
  }, 60_000);
});

describe.skipIf(!available)('organisers\' changes with two server processes', () => {
  it('reach the other process in order with the fixes, and a process started later has them', async () => {
    const prefix = newPrefix();
    const env = { REDIS_URL, REDIS_PREFIX: prefix };
    const a = await start(env);
    const b = await start(env);
    const organiser = { authorization: `Bearer ${TEST_ORGANISER_TOKEN}`, 'content-type': 'application/json' };
    const newKey = 'a-brand-new-race-key-for-tests';
    const viewAs = (s: ServerProcess, query = '') => fetch(`${s.url}/api/races/${RACE}/snapshot${query}`);

    // Through A: the race made private with a key, and a runner out of the race.
    expect((await fetch(`${a.url}/api/organiser/races/${RACE}`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ private: true, key: newKey }) })).status).toBe(200);
    const dnf = await fetch(`${a.url}/api/organiser/participants/${participants[1]!.participantId}/outcome`, {
      method: 'POST',
      headers: organiser,
      body: JSON.stringify({ outcome: 'dnf' }),
    });
    expect(dnf.status).toBe(200);

    // B serves the race as A does: hidden without the key, the runner out of it.
    await expect.poll(async () => (await viewAs(b)).status, { timeout: 5000 }).toBe(404);
    const withKey = (await (await viewAs(b, `?key=${newKey}`)).json()) as Ack<RaceSnapshot>;
    expect(withKey.ok && withKey.data.runners.find((r) => r.participantId === participants[1]!.participantId)?.status).toBe(4);
    const spectatorOnB = connectSpectator(b.url);
    await connected(spectatorOnB);
    expect(await spectatorOnB.timeout(5000).emitWithAck('race:join', { raceId: RACE })).toMatchObject({ ok: false, code: 'UNKNOWN_RACE' });
    spectatorOnB.disconnect();

    // A third process, started after the change, has it too (from the race's checkpoint and log).
    const c = await start(env);
    expect((await viewAs(c)).status).toBe(404);
    const fromC = (await (await viewAs(c, `?key=${newKey}`)).json()) as Ack<RaceSnapshot>;
    expect(fromC.ok && fromC.data.runners.find((r) => r.participantId === participants[1]!.participantId)?.status).toBe(4);
  }, 60_000);
});

describe.skipIf(!available)('Redis going away and coming back, under two server processes', () => {
  it('answers "send again", reports it in /healthz, crashes no process, then resumes with what was acknowledged', async () => {
    const ownRedis = await startOwnRedis();
    const env = { REDIS_URL: ownRedis.url, REDIS_PREFIX: 'fault' };
    const servers = [await start(env), await start(env)];
    const devices = await Promise.all(
      servers.map(async (s, i) => {
        const d = connectDevice(s.url, participants[i]!.deviceToken);
        await connected(d);
        return d;
      }),
    );
    const send = (device: DeviceSocket, distanceM: number) => {
      const [lon, lat] = course.path.pointAtRaceDistance(distanceM);
      return device.timeout(15_000).emitWithAck('position', { lon, lat, recordedAtMs: Date.now(), accuracyM: 5 });
    };
    const health = async (s: ServerProcess) => (await fetch(`${s.url}/healthz`)).status;
    try {
      for (const d of devices) expect(await send(d, 1500)).toMatchObject({ ok: true });
      for (const s of servers) expect(await health(s)).toBe(200);

      await ownRedis.stop();
      for (const s of servers) await expect.poll(() => health(s), { timeout: 10_000, interval: 100 }).toBe(503);
      for (const d of devices) expect(await send(d, 1520)).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
      // Past a lease's lifetime (5 s) nobody may believe they still write the race: each process
      // says so in /metrics, and goes on serving, honestly unhealthy.
      const racesWritten = async (s: ServerProcess) => {
        const text = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${TEST_ORGANISER_TOKEN}` } })).text();
        return Number(/^racetrack_races_written (\d+)/m.exec(text)?.[1]);
      };
      for (const s of servers) await expect.poll(() => racesWritten(s), { timeout: 15_000, interval: 200 }).toBe(0);
      for (const s of servers) {
        expect(await health(s)).toBe(503); // still serving, still honest
        expect(s.child.exitCode).toBeNull();
      }

      await ownRedis.restart();
      for (const s of servers) await expect.poll(() => health(s), { timeout: 10_000, interval: 200 }).toBe(200);
      for (const d of devices) expect(await send(d, 1540)).toMatchObject({ ok: true });
      // The fixes acknowledged before the outage survived it; the refused ones were never stored.
      expect((await loggedPings(ownRedis.url, 'fault')).length).toBe(4);
      // And the race is written again: a spectator receives its deltas.
      const watcher = await spectator(servers[1]!.url);
      const before = watcher.view.deltasReceived;
      await send(devices[0]!, 1560);
      await expect.poll(() => watcher.view.deltasReceived, { timeout: 10_000 }).toBeGreaterThan(before);
      watcher.close();
      for (const s of servers) expect(s.child.exitCode).toBeNull();
    } finally {
      for (const d of devices) d.disconnect();
      await Promise.all(servers.map((s) => s.kill()));
      await ownRedis.stop();
    }
  }, 90_000);
});
