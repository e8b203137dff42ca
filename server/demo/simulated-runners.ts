// Simulated runners for the demo: each participant moves along their course at their own pace,
// with GPS noise, and sends fixes through the same Socket.IO path a real runner's phone uses.
import { io as connect, type Socket } from 'socket.io-client';
import type {
  Ack,
  DeviceClientToServerEvents,
  DeviceServerToClientEvents,
  FixInput,
  PositionAccepted,
} from '../../shared/protocol.ts';
import type { Clock } from '../core/clock.ts';
import type { Course } from '../core/course.ts';
import type { LoadedEvent } from '../event/event-file.ts';
import { seededRandom, type Random } from '../../shared/random.ts';

export interface DemoSimulationOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8080. */
  url: string;
  event: LoadedEvent;
  /** Start time of each race, as the server has it. */
  raceStartMs: (raceId: string) => number;
  /** The same clock as the server's (sped up together in a fast demo). */
  clock: Clock;
  /** How many times faster than real time the clock runs; fixes are spaced in simulated time. */
  speed: number;
  seed?: number;
  /** Seconds of simulated time between a runner's fixes (phone apps send every 1 to 10 s). */
  pingEverySec?: number;
  /** Standard deviation of the GPS noise, metres per axis. */
  gpsNoiseM?: number;
  onError?: (message: string) => void;
}

export interface DemoSimulation {
  /** Fixes acknowledged with ok so far, and refused. */
  stats(): { sent: number; accepted: number; refused: number; connected: number };
  /** The participants who have crossed their finish line so far, and when (the simulation's truth). */
  finishers(): Array<{ participantId: string; raceId: string; finishedAtMs: number }>;
  stop(): void;
}

interface SimulatedRunner {
  participantId: string;
  raceId: string;
  course: Course;
  paceSecPerKm: number;
  socket: Socket<DeviceServerToClientEvents, DeviceClientToServerEvents>;
  nextFixAtMs: number;
  finishedAtMs: number | null;
}

const WALK_MPS = 1.2;

/** Typical paces per race kind: elite to back of the field. */
function paceFor(raceId: string, random: Random): number {
  const spread = (fast: number, slow: number) => fast + (slow - fast) * random.next() ** 1.6;
  if (raceId.includes('42k')) return spread(185, 420);
  if (raceId.includes('21k')) return spread(180, 400);
  if (raceId.includes('32k')) return spread(260, 440);
  return spread(175, 420);
}

export function startDemoSimulation(options: DemoSimulationOptions): DemoSimulation {
  const random = seededRandom(options.seed ?? 442);
  const pingEveryMs = (options.pingEverySec ?? Math.max(5, options.speed)) * 1000;
  const noiseM = options.gpsNoiseM ?? 4;
  const counters = { sent: 0, accepted: 0, refused: 0, connected: 0 };
  const reportError = options.onError ?? (() => {});
  const runners: SimulatedRunner[] = [];

  for (const race of options.event.races) {
    const { course } = race;
    for (const participant of race.participants) {
      const socket: Socket<DeviceServerToClientEvents, DeviceClientToServerEvents> = connect(`${options.url}/device`, {
        auth: { deviceToken: participant.deviceToken },
        transports: ['websocket'],
      });
      socket.on('connect', () => {
        counters.connected += 1;
      });
      socket.on('disconnect', () => {
        counters.connected -= 1;
      });
      socket.on('connect_error', (err) => reportError(`${participant.participantId}: ${err.message}`));
      runners.push({
        participantId: participant.participantId,
        raceId: race.raceId,
        course,
        paceSecPerKm: paceFor(race.raceId, random),
        socket,
        // Spread the fixes over the interval so they do not all arrive in the same millisecond.
        nextFixAtMs: options.clock.nowMs() + random.next() * pingEveryMs,
        finishedAtMs: null,
      });
    }
  }

  /** One runner's fix recorded at `atMs` (simulated time), sent now. */
  const send = (runner: SimulatedRunner, atMs: number): void => {
    const elapsedSec = Math.max(0, atMs - options.raceStartMs(runner.raceId)) / 1000;
    const { course } = runner;
    const lineM = course.raceDistanceM;
    const trueDistanceM = Math.min(lineM, (elapsedSec / runner.paceSecPerKm) * 1000);
    if (trueDistanceM >= lineM && runner.finishedAtMs === null) {
      // When they reached the line, not when this fix is sent.
      runner.finishedAtMs = options.raceStartMs(runner.raceId) + runner.paceSecPerKm * lineM;
    }
    const pastSec = runner.finishedAtMs === null ? 0 : Math.max(0, (atMs - runner.finishedAtMs) / 1000);
    const beyondM = Math.min(pastSec, 30) * WALK_MPS;
    const truePoint =
      beyondM === 0 || course.isLapped
        ? course.path.pointAtRaceDistance(trueDistanceM + beyondM)
        : course.path.ruler.destination(course.path.pointAtRaceDistance(lineM), beyondM, course.path.bearingAtRaceDistance(lineM));
    const [lon, lat] = course.path.ruler.offset(truePoint, random.gaussian(noiseM), random.gaussian(noiseM));
    const fix: FixInput = {
      lat,
      lon,
      recordedAtMs: Math.round(atMs),
      accuracyM: Math.round(noiseM * 2),
      speedMps: runner.finishedAtMs === null ? 1000 / runner.paceSecPerKm : pastSec < 30 ? WALK_MPS : 0,
    };
    counters.sent += 1;
    runner.socket.emit('position', fix, (result: Ack<PositionAccepted>) => {
      if (result.ok) counters.accepted += 1;
      else {
        counters.refused += 1;
        reportError(`${runner.participantId}: ${result.code} ${result.message}`);
      }
    });
  };

  const step = (): void => {
    const nowMs = options.clock.nowMs();
    for (const runner of runners) {
      if (!runner.socket.connected) continue;
      // A phone records a fix every interval whatever happens to this timer (a sped-up clock
      // makes a late timer skip minutes): the ones due since the last step go now, as a phone
      // sends what it kept.
      while (runner.nextFixAtMs <= nowMs) {
        const atMs = runner.nextFixAtMs;
        runner.nextFixAtMs += pingEveryMs;
        // A finished runner walks on down the finish chute for half a minute, stands, and stops
        // their phone a minute after the line.
        if (runner.finishedAtMs !== null && atMs - runner.finishedAtMs > 60_000) break;
        send(runner, atMs);
      }
    }
  };
  const timer = setInterval(step, 200);
  timer.unref();

  return {
    stats: () => ({ ...counters }),
    finishers: () => runners.flatMap((r) => (r.finishedAtMs === null ? [] : [{ participantId: r.participantId, raceId: r.raceId, finishedAtMs: r.finishedAtMs }])),
    stop: () => {
      clearInterval(timer);
      for (const runner of runners) runner.socket.disconnect();
    },
  };
}
