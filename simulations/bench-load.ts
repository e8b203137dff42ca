// The load benchmark: starts the real server as its own process (in memory, or on Redis with
// --redis), drives runners that ping through the device socket every few seconds and spectator
// sockets that each watch one race, and measures what the server does under that load. In the
// same run it measures the naive baseline (every ping broadcast at once to the race's room as a
// JSON object, simulations/naive-broadcast-server.ts) and prints the CPU per delivered update of
// both. Run with `npm run bench:load` (options: --help). The load generator runs on the same
// machine and its CPU is printed too; it speaks the Socket.IO protocol through lean clients
// (load-clients.ts) so that it leaves the server as much of the machine as it can.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import pidusage from 'pidusage';
import { DELTA_HEADER_BYTES, decodeDelta } from '../shared/wire.ts';
import { loadEventFile } from '../server/event/event-file.ts';
import { LeanSocket } from './load-clients.ts';
import type { RunnerWorkerData } from './load-runners.ts';
import { startServerProcess, writeEventFile, type ServerProcess } from './server-process.ts';

const usage = `usage: npm run bench:load -- [options]

  --redis               run the server on Redis (REDIS_URL, default redis://127.0.0.1:6379)
  --adapter KIND        Socket.IO Redis adapter with --redis: classic (default) or sharded
  --processes K         server processes on the one Redis (with --redis; default 1); runners and
                        spectators are dealt round robin over them, as a plain load balancer does.
                        A list (--processes 1,2) runs the full load once per count, one after the
                        other, and prints the cluster's CPU per accepted fix side by side
  --runners N           runners in all (default 12000)
  --races R             races they are spread over (default 12)
  --spectators M        spectator sockets, spread over the races (default 5000)
  --ping-every-ms P     each runner's fix interval (default 1200: 10,000 pings/s for 12,000 runners)
  --seconds S           length of the measured window (default 20)
  --baseline-runners B  runners of the baseline's single race (default 100)
  --seed N              seed of the runners' paces, places and GPS noise (default 1)
  --json                print the results as JSON as well
  --profile DIR         write a CPU profile of each server process into DIR (node --cpu-prof)

The server holds one socket per runner and per spectator: keep runners + spectators under the
open-file limit (ulimit -n).`;

const { values: args } = parseArgs({
  options: {
    redis: { type: 'boolean', default: false },
    adapter: { type: 'string', default: 'classic' },
    processes: { type: 'string', default: '1' },
    runners: { type: 'string', default: '12000' },
    races: { type: 'string', default: '12' },
    spectators: { type: 'string', default: '5000' },
    'ping-every-ms': { type: 'string', default: '1200' },
    seconds: { type: 'string', default: '20' },
    'baseline-runners': { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const positiveInt = (name: string, value: string | undefined): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive whole number\n\n${usage}\n`);
    process.exit(2);
  }
  return n;
};
if (args.adapter !== 'classic' && args.adapter !== 'sharded') {
  process.stderr.write(`--adapter is classic or sharded\n\n${usage}\n`);
  process.exit(2);
}
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const BENCH_ORGANISER_TOKEN = `bench-organiser-${randomBytes(12).toString('hex')}`;
const TICK_MS = 1000;

interface PhaseSpec {
  label: string;
  server: 'ours' | 'naive';
  races: number;
  runnersPerRace: number;
  spectators: number;
  pingEveryMs: number;
  measureS: number;
  redis: boolean;
  processes: number;
}

interface Percentiles {
  p50: number;
  p99: number;
  samples: number;
}

interface PhaseResult {
  spec: PhaseSpec;
  runners: number;
  spectatorsJoined: number;
  pingsAcceptedPerSec: number;
  pingsRefusedPerSec: number;
  /** Spectator receipt after the tick that made the delta (ours), or after the fix was recorded (naive). */
  afterTickMs: Percentiles;
  /** From a ping's acknowledgement to a spectator receiving it, the wait for the tick included. */
  ackToSpectatorMs: Percentiles;
  /** From a runner sending a fix to its acknowledgement (ours and the baseline alike). */
  fixAckMs: Percentiles;
  messagesPerSpectatorPerSec: number;
  /** Share of spectators that received at least 90% of the deltas they should have. */
  spectatorsOnTimeShare: number;
  positionsDeliveredPerSec: number;
  wireBytesPerPosition: number;
  /** Everything a spectator's socket receives (positions, crossing times: results and splits come from these), bytes a second. */
  wireBytesPerSpectatorPerSec: number;
  serverCpuCores: number;
  serverCpuUsPerUpdate: number;
  generatorCpuCores: number;
  redisCpuCores: number | null;
  rssIdleMiB: number;
  rssPerRunnerKiB: number;
  rssPerSpectatorKiB: number;
  rssEndMiB: number;
  /** Fixes stored and applied in the window, summed over the server processes (their /metrics). */
  fixesStored: number;
  fixesApplied: number;
  /** Length of the measured window, seconds. */
  elapsedS: number;
}

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentiles(samples: number[]): Percentiles {
  if (samples.length === 0) return { p50: NaN, p99: NaN, samples: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99), samples: sorted.length };
}

/** Buckets of the acknowledgement histogram the runners fill: a tenth of a millisecond each, up to 10 s. */
const ACK_BUCKETS = 100_001;

/** Percentiles of a histogram of tenths of a millisecond. */
function histogramPercentiles(counts: Int32Array): Percentiles {
  const total = counts.reduce((n, c) => n + c, 0);
  if (total === 0) return { p50: NaN, p99: NaN, samples: 0 };
  const at = (q: number) => {
    let seen = 0;
    for (let k = 0; k < counts.length; k++) {
      seen += counts[k]!;
      if (seen > q * total) return k / 10;
    }
    return (counts.length - 1) / 10;
  };
  return { p50: at(0.5), p99: at(0.99), samples: total };
}

function eventJson(spec: PhaseSpec, tokenSalt: string, startsAtMs: number) {
  return {
    name: `Load benchmark (${spec.label})`,
    races: Array.from({ length: spec.races }, (_, r) => ({
      id: `race-${r + 1}`,
      name: `Race ${r + 1}`,
      distanceM: 10_000,
      startsAt: new Date(startsAtMs).toISOString(),
      course: { kind: 'street', file: 'courses/street-10k.geojson' },
      participants: Array.from({ length: spec.runnersPerRace }, (_, i) => ({
        id: `r${r + 1}-${i + 1}`,
        bib: String((r + 1) * 100_000 + i + 1),
        name: `Runner ${r + 1}.${i + 1}`,
        deviceToken: `bench-${tokenSalt}-${r + 1}-${i + 1}`,
      })),
    })),
  };
}

async function connectAll(sockets: LeanSocket[], concurrency: number, onProgress: (n: number) => void): Promise<number> {
  let connected = 0;
  for (let i = 0; i < sockets.length; i += concurrency) {
    const wave = sockets.slice(i, i + concurrency);
    const results = await Promise.all(wave.map((s) => s.connect()));
    connected += results.filter(Boolean).length;
    onProgress(connected);
  }
  return connected;
}

async function redisPid(): Promise<number | null> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = await client.info('server');
    const pid = /process_id:(\d+)/.exec(info)?.[1];
    return pid ? Number(pid) : null;
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

async function runPhase(spec: PhaseSpec, seed: number): Promise<PhaseResult> {
  // (Twelve random bytes: with four, a salt that happened to read as a word or a sequence made
  // the event file's device tokens "too easy to guess", and the server refused it.)
  const tokenSalt = randomBytes(12).toString('base64url');
  // Under way for half an hour: every runner is somewhere along the 10 km, where their pace has taken them.
  const raceStartMs = Date.now() - 30 * 60_000;
  const eventFile = writeEventFile(eventJson(spec, tokenSalt, raceStartMs));
  const event = await loadEventFile(eventFile);
  const prefix = `bench:${tokenSalt}`;
  const env: Record<string, string> = { TICK_MS: String(TICK_MS), LOG_LEVEL: 'error', ORGANISER_TOKEN: BENCH_ORGANISER_TOKEN };
  if (spec.redis) Object.assign(env, { REDIS_URL, REDIS_PREFIX: prefix, REDIS_ADAPTER: args.adapter! });
  say(`\n[${spec.label}] starting ${spec.processes} server process(es): ${spec.races} races x ${spec.runnersPerRace} runners, ${spec.spectators} spectators`);
  const servers: ServerProcess[] = [];
  for (let k = 0; k < spec.processes; k++) {
    servers.push(
      await startServerProcess(eventFile, env, {
        ...(spec.server === 'naive' ? { entry: 'simulations/naive-broadcast-server.ts' } : {}),
        ...(args.profile ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', args.profile] } : {}),
      }),
    );
  }
  /** CPU time (ms) and RSS (bytes) of all server processes together. */
  const serverUsage = async () => {
    const stats = await Promise.all(servers.map((s) => pidusage(s.child.pid!)));
    return { ctime: stats.reduce((n, x) => n + x.ctime, 0), memory: stats.reduce((n, x) => n + x.memory, 0) };
  };
  const urlFor = (i: number) => servers[i % servers.length]!.url;
  /** Fixes stored and applied so far, summed over the processes (their /metrics; zero for the naive server, which has none). */
  const fixCounts = async () => {
    let stored = 0;
    let applied = 0;
    if (spec.server === 'naive') return { stored, applied };
    for (const server of servers) {
      const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${BENCH_ORGANISER_TOKEN}` } })).text();
      stored += Number(/^racetrack_fixes_stored_total (\S+)$/m.exec(text)?.[1] ?? 0);
      applied += Number(/^racetrack_fixes_applied_total (\S+)$/m.exec(text)?.[1] ?? 0);
    }
    return { stored, applied };
  };
  const rPid = spec.redis ? await redisPid() : null;
  try {
    await sleep(1500);
    const rssIdle = (await serverUsage()).memory;

    // Runners: one device socket each, as the runner page and the demo's simulated runners use,
    // in a worker thread (load-runners.ts).
    const runnerCount = event.races.reduce((n, r) => n + r.participants.length, 0);
    const raceOffsets = event.races.map((_, r) => event.races.slice(0, r).reduce((n, x) => n + x.participants.length, 0));
    const lastAckAtMs = new Float64Array(new SharedArrayBuffer(8 * runnerCount));
    const lastCountedAckMs = new Float64Array(runnerCount);
    const runnerCounters = new Int32Array(new SharedArrayBuffer(4 * 3));
    const ackLatency = new Int32Array(new SharedArrayBuffer(4 * ACK_BUCKETS));
    const workerData: RunnerWorkerData = {
      eventFile,
      urls: servers.map((s) => s.url),
      raceStartMs,
      pingEveryMs: spec.pingEveryMs,
      seed,
      lastAckAtMs: lastAckAtMs.buffer as SharedArrayBuffer,
      counters: runnerCounters.buffer as SharedArrayBuffer,
      ackLatency: ackLatency.buffer as SharedArrayBuffer,
    };
    // load-runners.mjs registers tsx in the worker, then loads load-runners.ts.
    const worker = new Worker(new URL('./load-runners.mjs', import.meta.url), { workerData });
    await new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (m: { connected?: number; ready?: boolean }) => {
        if (m.connected !== undefined && (m.connected % 2000 < 250 || m.connected === runnerCount)) say(`[${spec.label}] runners connected ${m.connected}/${runnerCount}`);
        if (m.ready) resolve();
      });
    });
    const connectedRunners = Atomics.load(runnerCounters, 2);
    await sleep(1500);
    const rssRunners = (await serverUsage()).memory;

    // Spectators: one socket each, joined to one race, round robin over the races.
    const counters = { messages: 0, positions: 0, wireBytes: 0, wirePositions: 0 };
    let afterTick: number[] = [];
    let ackToSpectator: number[] = [];
    const spectators = Array.from({ length: spec.spectators }, (_, i) => {
      const raceIndex = i % spec.races;
      // The first spectator of each race also checks the time from each ping's acknowledgement.
      const sampled = i < spec.races;
      const spectator = { raceIndex, received: 0, socket: null as unknown as LeanSocket };
      spectator.socket = new LeanSocket({
        url: urlFor(i),
        namespace: '/',
        onBinaryEvent: (event, _args, bytes, wireBytes) => {
          if (event !== 'race:delta' || bytes.byteLength < DELTA_HEADER_BYTES) return;
          const nowMs = Date.now();
          const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          const entries = view.getUint16(13);
          spectator.received += 1;
          counters.messages += 1;
          counters.positions += entries;
          counters.wireBytes += wireBytes;
          counters.wirePositions += entries;
          afterTick.push(nowMs - view.getFloat64(5));
          if (!sampled) return;
          for (const e of decodeDelta(bytes).entries) {
            const k = raceOffsets[raceIndex]! + e.runnerIndex;
            const ackedAt = lastAckAtMs[k]!;
            if (ackedAt > lastCountedAckMs[k]!) {
              ackToSpectator.push(nowMs - ackedAt);
              lastCountedAckMs[k] = ackedAt;
            }
          }
        },
        onEvent: (event, args, wireBytes) => {
          // The naive baseline's JSON message, one per ping.
          if (event !== 'race:position') return;
          spectator.received += 1;
          counters.messages += 1;
          counters.positions += 1;
          counters.wireBytes += wireBytes;
          counters.wirePositions += 1;
          afterTick.push(Date.now() - (args[0] as { recordedAtMs: number }).recordedAtMs);
        },
      });
      return spectator;
    });
    const joined = await connectAll(
      spectators.map((s) => s.socket),
      250,
      (n) => {
        if (n % 1000 < 250 || n === spectators.length) say(`[${spec.label}] spectators connected ${n}/${spectators.length}`);
      },
    );
    await sleep(1500);
    // Sockets alone, before joining: a join's snapshot leaves garbage behind that is not the socket's.
    const rssSpectators = (await serverUsage()).memory;
    let spectatorsJoined = 0;
    await Promise.all(
      spectators.map(async (s) => {
        const raceId = event.races[s.raceIndex]!.raceId;
        const ack = (await s.socket.emitWithAck('race:join', { raceId }, 30_000)) as { ok?: boolean } | null;
        if (ack?.ok) spectatorsJoined += 1;
      }),
    );
    say(`[${spec.label}] ${connectedRunners} runners and ${joined} spectators connected (${spectatorsJoined} joined)`);

    worker.postMessage('start');
    const accepted = () => Atomics.load(runnerCounters, 0);
    const refused = () => Atomics.load(runnerCounters, 1);

    const progress = setInterval(() => {
      say(`[${spec.label}] warming up: pings accepted ${accepted()}, refused ${refused()}, messages to spectators ${counters.messages}`);
    }, 2000);
    // Warm up, then measure from a clean start.
    await sleep(5000);
    clearInterval(progress);
    Object.assign(counters, { messages: 0, positions: 0, wireBytes: 0, wirePositions: 0 });
    const accepted0 = accepted();
    const refused0 = refused();
    afterTick = [];
    ackToSpectator = [];
    ackLatency.fill(0);
    for (const s of spectators) s.received = 0;
    const fixes0 = await fixCounts();
    const cpu0 = await serverUsage();
    const redisCpu0 = rPid ? await pidusage(rPid) : null;
    const gen0 = process.cpuUsage();
    const t0 = performance.now();
    let lastAccepted = accepted();
    let lastMessages = 0;
    const measuring = setInterval(() => {
      say(`[${spec.label}] measuring: pings/s ${Math.round((accepted() - lastAccepted) / 2)}, messages to spectators/s ${Math.round((counters.messages - lastMessages) / 2)}`);
      lastAccepted = accepted();
      lastMessages = counters.messages;
    }, 2000);
    await sleep(spec.measureS * 1000);
    clearInterval(measuring);
    const elapsedS = (performance.now() - t0) / 1000;
    const cpu1 = await serverUsage();
    const redisCpu1 = rPid ? await pidusage(rPid) : null;
    const fixes1 = await fixCounts();
    const gen = process.cpuUsage(gen0);
    const fixAckMs = histogramPercentiles(Int32Array.from(ackLatency));
    const acceptedInWindow = accepted() - accepted0;
    const refusedInWindow = refused() - refused0;
    worker.postMessage('stop');
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));
    await worker.terminate();

    const serverCpuS = (cpu1.ctime - cpu0.ctime) / 1000;
    const expectedDeltas = spec.server === 'ours' ? elapsedS * (1000 / TICK_MS) : 0;
    const onTime = spec.server === 'ours' ? spectators.filter((s) => s.received >= 0.9 * expectedDeltas).length / Math.max(1, spectators.length) : NaN;
    const result: PhaseResult = {
      spec,
      runners: connectedRunners,
      spectatorsJoined,
      pingsAcceptedPerSec: acceptedInWindow / elapsedS,
      pingsRefusedPerSec: refusedInWindow / elapsedS,
      afterTickMs: percentiles(afterTick),
      ackToSpectatorMs: percentiles(ackToSpectator),
      fixAckMs,
      messagesPerSpectatorPerSec: counters.messages / elapsedS / Math.max(1, spectators.length),
      spectatorsOnTimeShare: onTime,
      positionsDeliveredPerSec: counters.positions / elapsedS,
      wireBytesPerPosition: counters.wireBytes / Math.max(1, counters.wirePositions),
      wireBytesPerSpectatorPerSec: counters.wireBytes / elapsedS / Math.max(1, spectators.length),
      serverCpuCores: serverCpuS / elapsedS,
      serverCpuUsPerUpdate: (serverCpuS * 1e6) / Math.max(1, counters.positions),
      generatorCpuCores: (gen.user + gen.system) / 1e6 / elapsedS,
      redisCpuCores: redisCpu0 && redisCpu1 ? (redisCpu1.ctime - redisCpu0.ctime) / 1000 / elapsedS : null,
      rssIdleMiB: rssIdle / 2 ** 20,
      rssPerRunnerKiB: (rssRunners - rssIdle) / 1024 / Math.max(1, connectedRunners),
      rssPerSpectatorKiB: (rssSpectators - rssRunners) / 1024 / Math.max(1, joined),
      rssEndMiB: cpu1.memory / 2 ** 20,
      fixesStored: fixes1.stored - fixes0.stored,
      fixesApplied: fixes1.applied - fixes0.applied,
      elapsedS,
    };
    for (const s of spectators) s.socket.close();
    return result;
  } finally {
    await Promise.all(servers.map((s) => s.kill('SIGTERM')));
    pidusage.clear();
    if (spec.redis) {
      const admin = new Redis(REDIS_URL);
      const keys = await admin.keys(`${prefix}:*`);
      for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500));
      await admin.quit();
    }
  }
}

const runnersTotal = positiveInt('runners', args.runners);
const races = positiveInt('races', args.races);
const spectatorCount = positiveInt('spectators', args.spectators);
const pingEveryMs = positiveInt('ping-every-ms', args['ping-every-ms']);
const measureS = positiveInt('seconds', args.seconds);
const baselineRunners = positiveInt('baseline-runners', args['baseline-runners']);
const seed = positiveInt('seed', args.seed);
const processCounts = (args.processes ?? '1').split(',').map((k) => positiveInt('processes', k));
const processCount = processCounts[0]!;
if (processCounts.some((k) => k > 1) && !args.redis) {
  process.stderr.write(`--processes needs --redis: processes share a race only through Redis\n`);
  process.exit(2);
}
const store = args.redis ? `Redis, ${args.adapter}${processCount > 1 ? `, ${processCount} proc.` : ''}` : 'in memory';
const spectatorsPerRace = Math.max(1, Math.round(spectatorCount / races));

const f = (x: number, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');

if (processCounts.length > 1) {
  // The cluster's cost per fix with 1, 2, … processes, the same load, one after the other.
  const runs: PhaseResult[] = [];
  for (const k of processCounts) {
    runs.push(
      await runPhase(
        { label: `${k} process${k === 1 ? '' : 'es'}`, server: 'ours', races, runnersPerRace: Math.ceil(runnersTotal / races), spectators: spectatorCount, pingEveryMs, measureS, redis: true, processes: k },
        seed,
      ),
    );
  }
  // Per fix stored in the log: a fix sent again after a refusal is answered from memory, cheaply,
  // and would flatter a figure per accepted fix.
  const storedPerSec = (r: PhaseResult) => r.fixesStored / r.elapsedS;
  const perFix = (r: PhaseResult) => (r.serverCpuCores * 1e6) / Math.max(1, storedPerSec(r));
  const compare: Array<[string, (r: PhaseResult) => string]> = [
    ['pings accepted per second', (r) => f(r.pingsAcceptedPerSec)],
    ['pings refused per second', (r) => f(r.pingsRefusedPerSec)],
    ['fixes stored in the log per second', (r) => f(storedPerSec(r))],
    ['server CPU (all processes), cores', (r) => f(r.serverCpuCores, 2)],
    ['server CPU per stored fix, us', (r) => f(perFix(r), 1)],
    ['  against 1 process', (r) => `${f(perFix(r) / perFix(runs[0]!), 2)}x`],
    ['fixes applied / fixes stored (all processes)', (r) => f(r.fixesApplied / Math.max(1, r.fixesStored), 2)],
    ['Redis CPU, cores', (r) => (r.redisCpuCores === null ? 'n/a' : f(r.redisCpuCores, 2))],
    ['spectators receiving >= 90% of ticks', (r) => `${f(r.spectatorsOnTimeShare * 100, 1)}%`],
    ['delay after the tick p50 / p99, ms', (r) => `${f(r.afterTickMs.p50)} / ${f(r.afterTickMs.p99)}`],
    ['fix acknowledged p50 / p99, ms', (r) => `${f(r.fixAckMs.p50, 1)} / ${f(r.fixAckMs.p99, 1)}`],
  ];
  let table = `\nCluster cost (Redis, ${args.adapter}): ${f(runnersTotal)} runners pinging every ${f(pingEveryMs)} ms in ${races} races, ${f(spectatorCount)} spectators, ${measureS} s measured each (seed ${seed})\n\n`;
  table += `${''.padEnd(52)}${runs.map((r) => r.spec.label.padStart(16)).join('')}\n`;
  for (const [name, cell] of compare) table += `${name.padEnd(52)}${runs.map((r) => cell(r).padStart(16)).join('')}\n`;
  process.stdout.write(table);
  if (args.json) process.stdout.write(`${JSON.stringify({ runs }, null, 2)}\n`);
  process.exit(0);
}

const full = await runPhase(
  { label: `ours, ${store}`, server: 'ours', races, runnersPerRace: Math.ceil(runnersTotal / races), spectators: spectatorCount, pingEveryMs, measureS, redis: args.redis!, processes: processCount },
  seed,
);
// The baseline writes one message per ping to every socket of the room, so it cannot carry the
// full load; it runs one race of the same room size with fewer runners, and ours runs that same
// load too, so the two compare on equal terms.
const smallSpec = { races: 1, runnersPerRace: baselineRunners, spectators: spectatorsPerRace, pingEveryMs, measureS: Math.min(measureS, 10), redis: args.redis!, processes: processCount };
const naive = await runPhase({ ...smallSpec, label: 'naive baseline (JSON per ping)', server: 'naive', redis: false, processes: 1 }, seed);
const small = await runPhase({ ...smallSpec, label: `ours at the baseline's load, ${store}`, server: 'ours' }, seed);

const rows: Array<[string, (r: PhaseResult) => string]> = [
  ['runners / spectator sockets joined', (r) => `${f(r.runners)} / ${f(r.spectatorsJoined)}`],
  ['pings accepted per second', (r) => f(r.pingsAcceptedPerSec)],
  ['pings refused per second', (r) => f(r.pingsRefusedPerSec)],
  ['messages per spectator per second', (r) => f(r.messagesPerSpectatorPerSec, 2)],
  ['spectators receiving >= 90% of ticks', (r) => (Number.isFinite(r.spectatorsOnTimeShare) ? `${f(r.spectatorsOnTimeShare * 100, 1)}%` : 'n/a')],
  ['delay after the tick p50 / p99, ms (naive: after the fix)', (r) => `${f(r.afterTickMs.p50)} / ${f(r.afterTickMs.p99)}`],
  ['fix acknowledged p50 / p99, ms', (r) => `${f(r.fixAckMs.p50, 1)} / ${f(r.fixAckMs.p99, 1)}`],
  ['ack to spectator p50 / p99, ms (tick wait included)', (r) => `${f(r.ackToSpectatorMs.p50)} / ${f(r.ackToSpectatorMs.p99)}`],
  ['positions delivered per second', (r) => f(r.positionsDeliveredPerSec)],
  ['wire bytes per runner position', (r) => f(r.wireBytesPerPosition, 2)],
  ['wire bytes per spectator per second (positions and crossing times)', (r) => f(r.wireBytesPerSpectatorPerSec)],
  ['server CPU, cores', (r) => f(r.serverCpuCores, 2)],
  ['server CPU per delivered update, us', (r) => f(r.serverCpuUsPerUpdate, 3)],
  ['server CPU per runner, us/s', (r) => f((r.serverCpuCores * 1e6) / Math.max(1, r.runners), 1)],
  ['fixes applied / fixes stored (all processes)', (r) => (r.spec.server === 'naive' ? 'n/a' : f(r.fixesApplied / Math.max(1, r.fixesStored), 2))],
  ['Redis CPU, cores', (r) => (r.redisCpuCores === null ? 'n/a' : f(r.redisCpuCores, 2))],
  ['load generator CPU, cores', (r) => f(r.generatorCpuCores, 2)],
  ['server RSS idle / at the end, MiB', (r) => `${f(r.rssIdleMiB)} / ${f(r.rssEndMiB)}`],
  ['server RSS per runner (its socket), KiB', (r) => f(r.rssPerRunnerKiB, 1)],
  ['server RSS per spectator socket, KiB', (r) => f(r.rssPerSpectatorKiB, 1)],
];
const phases = [full, naive, small];
const width = 58;
const col = 30;
let out = `\nLoad benchmark (${store}): ${f(runnersTotal)} runners pinging every ${f(pingEveryMs)} ms in ${races} races, ${f(spectatorCount)} spectators, tick ${TICK_MS} ms, ${measureS} s measured (seed ${seed})\n\n`;
out += `${''.padEnd(width)}${phases.map((p) => p.spec.label.slice(0, col - 2).padStart(col)).join('')}\n`;
for (const [name, cell] of rows) out += `${name.padEnd(width)}${phases.map((p) => cell(p).padStart(col)).join('')}\n`;
const ratioSameLoad = naive.serverCpuUsPerUpdate / small.serverCpuUsPerUpdate;
const ratioFull = naive.serverCpuUsPerUpdate / full.serverCpuUsPerUpdate;
out += `\nCPU per delivered update, naive / ours: ${f(ratioSameLoad, 1)}x at the same load (${baselineRunners} runners, ${spectatorsPerRace} spectators in one race), ${f(ratioFull, 1)}x against ours at full load\n`;
const targets: Array<[string, boolean, string]> = [
  ['>= 10,000 pings/s accepted', full.pingsAcceptedPerSec >= 10_000, f(full.pingsAcceptedPerSec)],
  ['>= 5,000 spectators receiving 1 Hz deltas', full.spectatorsJoined >= 5000 && full.spectatorsOnTimeShare >= 0.99, `${f(full.spectatorsJoined)} joined, ${f(full.spectatorsOnTimeShare * 100, 1)}% on time`],
  ['p99 <= 250 ms after the tick', full.afterTickMs.p99 <= 250, `${f(full.afterTickMs.p99)} ms`],
  ['<= 8 bytes per runner position', full.wireBytesPerPosition <= 8, f(full.wireBytesPerPosition, 2)],
  ['>= 30x less CPU per delivered update (same load)', ratioSameLoad >= 30, `${f(ratioSameLoad, 1)}x`],
  ['<= 16 KB RSS per spectator socket', full.rssPerSpectatorKiB <= 16, `${f(full.rssPerSpectatorKiB, 1)} KiB`],
];
out += `\nTargets (full load):\n`;
for (const [name, met, seen] of targets) out += `  ${met ? 'met   ' : 'MISSED'}  ${name.padEnd(50)} ${seen}\n`;
process.stdout.write(out);
if (args.json) process.stdout.write(`${JSON.stringify({ phases, ratioSameLoad, ratioFull }, null, 2)}\n`);
process.exit(0);
