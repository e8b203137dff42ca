// What is served of a race: the race list, the race a viewer may see (a private race without
// its key is as unknown), a race's summary and course, a live link's runner, and snapshots, one
// of which is shared by the spectators joining a race until its next delta. Moved out of
// RaceService, which answers the edges with these.
import { timingSafeEqual } from 'node:crypto';
import type { CourseGeometry, FollowSnapshot, RaceSnapshot, RaceSummary } from '../shared/protocol.ts';
import type { Clock } from './core/clock.ts';
import { profileAlongLap } from './core/course.ts';
import { UNMATCHABLE_DIGEST, digest } from './device-credentials.ts';
import type { RaceEntry, ViewerAccess } from './race-service.ts';

/** How long (race clock) one snapshot of a race is shared by the requests for it, at most. */
const SNAPSHOT_SHARED_FOR_MS = 1000;

export interface RaceViewsDeps {
  clock: Clock;
  race: (raceId: string) => RaceEntry | undefined;
  races: () => Iterable<RaceEntry>;
  /** The newest log entry of the race applied here. */
  appliedLogId: (raceId: string) => string | null;
}

export class RaceViews {
  private readonly sharedSnapshots = new Map<string, { snapshot: RaceSnapshot; appliedLogId: string | null }>();

  constructor(private readonly deps: RaceViewsDeps) {}

  /** A changed race (course, access, start, runners moved) is not served from a shared snapshot. */
  forget(raceId: string): void {
    this.sharedSnapshots.delete(raceId);
  }

  list(options: { includePrivate: boolean }): RaceSummary[] {
    return [...this.deps.races()]
      .filter((race) => options.includePrivate || !race.isPrivate)
      .map((race) => this.summary(race));
  }

  /** The race if the caller may see it; a private race without the right key is as unknown. */
  findViewable(raceId: string, access: ViewerAccess): RaceEntry | null {
    const race = this.deps.race(raceId);
    if (race && (!race.isPrivate || access.isOrganiser)) return race;
    // An unknown race and a private one take the same steps (one digest, one comparison), so the
    // time of the answer does not tell a private race's existence either.
    const matches = timingSafeEqual(digest(access.key ?? ''), race?.keyDigest ?? UNMATCHABLE_DIGEST);
    return race && access.key !== undefined && race.keyDigest !== null && matches ? race : null;
  }

  summary(race: RaceEntry): RaceSummary {
    const { course } = race.tracker;
    return {
      raceId: race.raceId,
      name: race.name,
      ...(race.names ? { names: { ...race.names } } : {}),
      courseKind: course.kind,
      raceDistanceM: course.raceDistanceM,
      startsAtMs: race.tracker.startsAtMs,
      participantCount: race.tracker.participants.length,
      isPrivate: race.isPrivate,
    };
  }

  courseGeometry(race: RaceEntry): CourseGeometry {
    const { course } = race.tracker;
    return {
      raceId: race.raceId,
      courseKind: course.kind,
      lapCoordinates: course.path.coordinates.map(([lon, lat]) => [lon, lat]),
      lapLengthM: course.lapLengthM,
      raceDistanceM: course.raceDistanceM,
      startOffsetM: course.startOffsetM,
      timingPoints: race.tracker.timingPoints.map((p) => ({ ...p })),
      // (A point beyond a new, shorter course is not on it.)
      ...(course.profile ? { elevationProfile: profileAlongLap(course) } : {}),
      pointsOfInterest: race.pointsOfInterest.filter((p) => p.distanceAlongRaceM <= (course.isLapped ? course.lapLengthM : course.raceDistanceM)).map((p) => ({ ...p })),
    };
  }

  /** One runner and the course, for a live link; null when they are no longer in that race. */
  follow(raceId: string, participantId: string, linkExpiresAtMs: number): FollowSnapshot | null {
    const race = this.deps.race(raceId);
    const runner = race?.tracker.runnerSnapshot(participantId);
    if (!race || !runner) return null;
    return { raceId, raceName: race.name, ...(race.names ? { raceNames: { ...race.names } } : {}), linkExpiresAtMs, course: this.courseGeometry(race), seq: race.tracker.sequence, runner };
  }

  /** A race as it is now. */
  snapshot(race: RaceEntry): RaceSnapshot {
    return race.tracker.snapshot(this.deps.clock.nowMs());
  }

  /**
   * A race for a spectator joining its room: built once and shared by every join until the
   * race's next delta (or a change, or a second at most), so a crowd joining at the start, or one
   * client joining over and over, costs one snapshot per tick and not one per request. A shared
   * snapshot is exactly the state at its `seq`; the deltas after it carry what changed since.
   */
  sharedSnapshot(race: RaceEntry): RaceSnapshot {
    const nowMs = this.deps.clock.nowMs();
    // (And the same log entries applied: on a process that does not write the race, the
    // writer's delta number can arrive before the entries behind it are applied here.)
    const appliedLogId = this.deps.appliedLogId(race.raceId);
    const shared = this.sharedSnapshots.get(race.raceId);
    if (
      shared &&
      shared.snapshot.seq === race.tracker.sequence &&
      shared.appliedLogId === appliedLogId &&
      nowMs >= shared.snapshot.takenAtMs &&
      nowMs - shared.snapshot.takenAtMs < SNAPSHOT_SHARED_FOR_MS
    ) {
      return shared.snapshot;
    }
    const snapshot = this.snapshot(race);
    this.sharedSnapshots.set(race.raceId, { snapshot, appliedLogId });
    return snapshot;
  }
}
