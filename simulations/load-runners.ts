// The load benchmark's runners, in a worker thread of their own: each one a device socket that
// sends a fix every few seconds from where their pace has taken them since the start. Apart from
// the spectators' sockets (in the main thread), so that a flood of deltas arriving there never
// delays the runners' fixes: the server sees the load it is asked to carry, evenly spread.
import { parentPort, workerData } from 'node:worker_threads';
import type { Ack, FixInput, PositionAccepted } from '../shared/protocol.ts';
import { loadEventFile } from '../server/event/event-file.ts';
import { LeanSocket } from './load-clients.ts';
import { seededRandom } from '../shared/random.ts';

export interface RunnerWorkerData {
  eventFile: string;
  /** Server URL for the k-th runner of the event (round robin over the processes). */
  urls: string[];
  raceStartMs: number;
  pingEveryMs: number;
  seed: number;
  /** Per runner (in event order): when its latest fix was acknowledged, ms since the epoch. */
  lastAckAtMs: SharedArrayBuffer;
  /** [accepted, refused, connected] */
  counters: SharedArrayBuffer;
  /**
   * How long fixes waited for their acknowledgement: an Int32Array of counts, one per tenth of a
   * millisecond; the last one holds everything slower.
   */
  ackLatency: SharedArrayBuffer;
}

const data = workerData as RunnerWorkerData;
const lastAckAtMs = new Float64Array(data.lastAckAtMs);
const counters = new Int32Array(data.counters);
const ackLatency = new Int32Array(data.ackLatency);
const event = await loadEventFile(data.eventFile);
const random = seededRandom(data.seed);
const runners = event.races.flatMap((race) =>
  race.participants.map((p) => ({ course: race.course, deviceToken: p.deviceToken, paceMps: random.between(2.5, 4), socket: null as LeanSocket | null })),
);
runners.forEach((r, k) => {
  r.socket = new LeanSocket({ url: data.urls[k % data.urls.length]!, namespace: '/device', auth: { deviceToken: r.deviceToken } });
});

for (let i = 0; i < runners.length; i += 250) {
  const wave = runners.slice(i, i + 250);
  const joined = await Promise.all(wave.map((r) => r.socket!.connect()));
  Atomics.add(counters, 2, joined.filter(Boolean).length);
  parentPort!.postMessage({ connected: Atomics.load(counters, 2) });
}
parentPort!.postMessage({ ready: true });

// Each runner pings every pingEveryMs, at its own phase: slots of 20 ms.
const slotMs = 20;
const slots: number[][] = Array.from({ length: Math.max(1, Math.round(data.pingEveryMs / slotMs)) }, () => []);
runners.forEach((_, k) => slots[random.int(slots.length)]!.push(k));
let slot = 0;
let timer: NodeJS.Timeout | null = null;
const sendSlot = (): void => {
  const nowMs = Date.now();
  for (const k of slots[slot]!) {
    const r = runners[k]!;
    if (!r.socket!.connected) continue;
    const distanceM = (r.paceMps * (nowMs - data.raceStartMs)) / 1000;
    const [lon, lat] = r.course.path.pointAtRaceDistance(distanceM);
    const fix: FixInput = {
      lat: lat + random.gaussian(4) / 111_320,
      lon: lon + random.gaussian(4) / (111_320 * Math.cos((lat * Math.PI) / 180)),
      recordedAtMs: nowMs,
      accuracyM: 8,
      speedMps: Math.round(r.paceMps * 10) / 10,
      headingDeg: Math.round((r.course.path.bearingAtRaceDistance(distanceM) + 360) % 360),
    };
    const sentAtMs = performance.now();
    r.socket!.emit('position', fix, (reply) => {
      const waitedMs = performance.now() - sentAtMs;
      Atomics.add(ackLatency, Math.min(ackLatency.length - 1, Math.floor(waitedMs * 10)), 1);
      if ((reply as Ack<PositionAccepted>).ok) {
        Atomics.add(counters, 0, 1);
        lastAckAtMs[k] = Date.now();
      } else Atomics.add(counters, 1, 1);
    });
  }
  slot = (slot + 1) % slots.length;
};

parentPort!.on('message', (message: string) => {
  if (message === 'start') timer ??= setInterval(sendSlot, slotMs);
  if (message === 'stop') {
    if (timer) clearInterval(timer);
    for (const r of runners) r.socket!.close();
    parentPort!.postMessage({ stopped: true });
  }
});
