// A race watched again: the race's ping log (in memory or on Redis) run through a fresh copy of
// the course engine in the order the fixes were recorded, sampled every few seconds into frames
// of every runner's published distance and status; and each runner's own track, the fixes the
// engine placed on the course. docs/RESULTS.md says how the page plays it back.
import { RunnerStatus } from '../shared/protocol.ts';
import { RaceTracker } from './core/race-tracker.ts';
import type { LoggedPing } from './ports/stores.ts';
import type { RaceEntry } from './race-service.ts';
import { slicer } from './slices.ts';

export interface ReplayRunner {
  runnerIndex: number;
  participantId: string;
  bib: string;
  name: string;
}

export interface Replay {
  raceId: string;
  startsAtMs: number;
  /** Frame k is the race as of `startsAtMs + k × stepMs`. */
  stepMs: number;
  runners: ReplayRunner[];
  /** `distances[k][i]`: runner i's published distance along the race at frame k, metres to a decimetre. */
  distances: number[][];
  /** `statuses[k][i]`: their status then (RunnerStatus codes). */
  statuses: number[][];
}

export interface ReplayResult {
  replay: Replay;
  /** Per participant: `[recordedAtMs, lon, lat]` of each fix the engine placed on the course. */
  tracks: Map<string, Array<[number, number, number]>>;
}

/** At most this many frames: a marathon's five hours at 10 s, a day at 45 s. */
export const MAX_FRAMES = 2000;
const MIN_STEP_MS = 5000;
/** Frames go on this long after the last fix, so finishes decided by silence are seen. */
const TAIL_MS = 5 * 60_000;
/** A track longer than this is thinned evenly (a phone sending every second for six hours). */
export const MAX_TRACK_POINTS = 5000;

export async function computeReplay(race: RaceEntry, pings: readonly LoggedPing[]): Promise<ReplayResult> {
  const live = race.tracker;
  const tracker = new RaceTracker(race.raceId, live.course, live.startsAtMs, live.everParticipants, { engine: live.engineOptions, timingPoints: [...live.timingPoints] });
  const runners = live.everParticipants.map((p, runnerIndex) => ({ runnerIndex, participantId: p.participantId, bib: p.bib, name: p.name }));
  // In the order the fixes were recorded (a burst a phone buffered is replayed where it belongs);
  // the sort is stable, so fixes of the same moment keep their log order.
  const own = pings.filter((p) => p.raceId === race.raceId && tracker.hasParticipant(p.participantId)).sort((a, b) => a.fix.recordedAtMs - b.fix.recordedAtMs);
  const startsAtMs = live.startsAtMs;
  const lastMs = own.reduce((m, p) => Math.max(m, p.fix.recordedAtMs), startsAtMs) + TAIL_MS;
  const stepMs = Math.max(MIN_STEP_MS, Math.ceil((lastMs - startsAtMs) / MAX_FRAMES / 1000) * 1000);
  const distances: number[][] = [];
  const statuses: number[][] = [];
  const tracks = new Map<string, Array<[number, number, number]>>();
  const frame = (atMs: number): void => {
    for (const id of tracker.silentFinishes(atMs)) tracker.finishBySilence(id, atMs);
    const snapshot = tracker.snapshot(atMs);
    distances.push(snapshot.runners.map((r) => r.distanceAlongRaceM));
    statuses.push(snapshot.runners.map((r) => r.status));
  };
  const slices = slicer();
  let nextFrameMs = startsAtMs;
  for (const ping of own) {
    while (ping.fix.recordedAtMs > nextFrameMs) {
      frame(nextFrameMs);
      nextFrameMs += stepMs;
    }
    const result = tracker.applyFix(ping.participantId, ping.fix);
    // Only fixes placed on the course make the track: a phone switched on at home before the
    // start, or a runner gone off the course, shows nobody where they were.
    if (result.applied && result.status === RunnerStatus.onCourse) {
      let track = tracks.get(ping.participantId);
      if (!track) tracks.set(ping.participantId, (track = []));
      track.push([ping.fix.recordedAtMs, ping.fix.lon, ping.fix.lat]);
    }
    await slices.pause();
  }
  while (nextFrameMs <= lastMs) {
    frame(nextFrameMs);
    nextFrameMs += stepMs;
  }
  for (const [id, track] of tracks) if (track.length > MAX_TRACK_POINTS) tracks.set(id, thin(track, MAX_TRACK_POINTS));
  return {
    // (Everyone ever in the race, moved ones included: their pings from before the move are in
    // this race's log. Frames hold them in this order, the snapshot's.)
    replay: { raceId: race.raceId, startsAtMs, stepMs, runners, distances, statuses },
    tracks,
  };
}

function thin<T>(items: readonly T[], count: number): T[] {
  const out: T[] = [];
  for (let k = 0; k < count; k++) out.push(items[Math.round((k * (items.length - 1)) / (count - 1))]!);
  return out;
}

/**
 * Replays are made on demand and kept a little while per race: a page that opens the replay and
 * then asks for a runner's track, or many spectators opening it after the race, cost one run.
 */
export class ReplayCache {
  private readonly cache = new Map<string, { atMs: number; result: Promise<ReplayResult> }>();

  constructor(
    private readonly readLog: (raceId: string) => Promise<LoggedPing[]>,
    private readonly nowMs: () => number = () => Date.now(),
    private readonly keepMs = 15_000,
  ) {}

  get(race: RaceEntry): Promise<ReplayResult> {
    const cached = this.cache.get(race.raceId);
    if (cached && this.nowMs() - cached.atMs < this.keepMs) return cached.result;
    const result = this.readLog(race.raceId).then((pings) => computeReplay(race, pings));
    this.cache.set(race.raceId, { atMs: this.nowMs(), result });
    // A failure (the store did not answer) is not kept.
    result.catch(() => this.cache.delete(race.raceId));
    return result;
  }
}
