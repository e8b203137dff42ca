// The races this process holds, as one part of the race service: the event file's, and those
// organisers create while the event runs, which are kept among the event's records so that every
// process adds them (adoptCreatedRaces, in the order they were created) and a restarted one has
// them. Kept apart from the ping pipeline (race-service.ts) because it alone decides which races
// exist and that their ids and device tokens never clash, bounded in number so that races made at
// run time cannot take the process's memory.
import { defaultEngineOptions, type EngineOptions } from './core/engine-options.ts';
import type { AlertThresholds } from './core/alerts.ts';
import { RaceTracker } from './core/race-tracker.ts';
import { timingPointsFor } from './core/timing-points.ts';
import { digest, type DeviceCredentials } from './device-credentials.ts';
import { parseRaceDefinition, type LoadedEvent, type LoadedRace } from './event/event-file.ts';
import { parseLineHere, type LineParser } from './event/course-parser.ts';
import type { Logger } from './logger.ts';
import type { Stores } from './ports/stores.ts';
import type { RaceEntry } from './race-service.ts';
import type { RoadSections } from './road-sections.ts';

export interface RaceRegistryDeps {
  event: LoadedEvent;
  stores: Stores;
  logger: Logger;
  /** Start time of races that do not set one. */
  defaultStartMs: number;
  engineOptions?: EngineOptions | undefined;
  /** The event's secret, from which a created race's device tokens may be derived (event-file.ts). */
  tokenSecret?: string | null | undefined;
  /** Each race's participants' devices, and its road sections, are registered with it. */
  credentials: DeviceCredentials;
  sections: RoadSections;
}

export class RaceRegistry {
  /** Races and participants one server holds, the event's and those added while it runs (docs/SECURITY.md). */
  static readonly MAX_RACES = 64;
  static readonly MAX_PARTICIPANTS = 50_000;
  private readonly races = new Map<string, RaceEntry>();
  private readonly alertThresholds = new Map<string, AlertThresholds>();
  private readonly raceAddedListeners: Array<(raceId: string) => void> = [];
  private createdRacesSeen = 0;

  /** The event file's races are built at once. */
  constructor(private readonly deps: RaceRegistryDeps) {
    for (const race of deps.event.races) {
      this.races.set(race.raceId, this.buildRace(race));
      this.registerRace(race);
    }
  }

  get(raceId: string): RaceEntry | undefined {
    return this.races.get(raceId);
  }

  has(raceId: string): boolean {
    return this.races.has(raceId);
  }

  values(): IterableIterator<RaceEntry> {
    return this.races.values();
  }

  ids(): string[] {
    return [...this.races.keys()];
  }

  /** A race's alert thresholds, as its event file (or its creation) set them. */
  thresholds(raceId: string): AlertThresholds | undefined {
    return this.alertThresholds.get(raceId);
  }

  /**
   * Creates a race while the event runs (a race created at short notice), from the race object of
   * the event file. It is kept among the event's records, so every process adds it (within a
   * second: adoptCreatedRaces) and a restarted one has it. Its ids and device tokens must not
   * clash with the event's. Returns the problems when it cannot be created; `created` hears of it
   * once it is added here.
   */
  async create(json: unknown, parseLine: LineParser, created: (race: LoadedRace) => void): Promise<RaceEntry | string[] | 'capacity' | 'unavailable'> {
    const { stores, logger } = this.deps;
    const parsed = await parseRaceDefinition(json, parseLine, this.deps.tokenSecret ?? null);
    if ('problems' in parsed) return parsed.problems;
    const problems = this.raceProblems(parsed.race);
    if (problems !== null) return problems;
    let saved: boolean;
    try {
      saved = await stores.records.saveRace(parsed.race.raceId, json as object);
    } catch (cause) {
      logger.error({ err: cause, raceId: parsed.race.raceId }, 'race could not be stored');
      return 'unavailable';
    }
    if (!saved) return [`race.id: race id "${parsed.race.raceId}" is already used`];
    // Added the way every other process adds it: with the races created before it, in the order
    // they were created, so that of two races created at once through two processes with the same
    // participant (or token), every process keeps the same one.
    try {
      await this.adoptCreatedRaces();
    } catch (cause) {
      logger.error({ err: cause, raceId: parsed.race.raceId }, 'created races could not be read');
      return 'unavailable';
    }
    if (!this.races.has(parsed.race.raceId)) return this.raceProblems(parsed.race) ?? ['the race could not be added'];
    created(parsed.race);
    return this.races.get(parsed.race.raceId)!;
  }

  /**
   * Adds the races other processes created (or that were created before this process started),
   * in the order they were created. Cheap when there are none new: one count.
   */
  async adoptCreatedRaces(): Promise<void> {
    const { stores, logger } = this.deps;
    const count = await stores.records.raceCount();
    if (count <= this.createdRacesSeen) return;
    for (const { raceId, race: json } of await stores.records.races()) {
      if (this.races.has(raceId)) continue;
      const parsed = await parseRaceDefinition(json, parseLineHere, this.deps.tokenSecret ?? null);
      const problems = 'problems' in parsed ? parsed.problems : parsed.race.raceId !== raceId ? ['its id differs from the one it was stored under'] : this.addRace(parsed.race);
      if (problems !== null) logger.error({ raceId, problems }, 'a race created at run time could not be added here');
    }
    this.createdRacesSeen = count;
  }

  /**
   * Told of each race added while the event runs (created through this process or another): the
   * coordinator claims it at once, so that its runners' first fixes are applied and answered
   * like any other's rather than after the next lease renewal.
   */
  onRaceAdded(listener: (raceId: string) => void): void {
    this.raceAddedListeners.push(listener);
  }

  /** Why a race cannot be added here (null: it can). */
  private raceProblems(race: LoadedRace): string[] | 'capacity' | null {
    const { credentials } = this.deps;
    // Races made at run time share the process's memory with the event's: bounded in total.
    if (this.races.size >= RaceRegistry.MAX_RACES || credentials.size + race.participants.length > RaceRegistry.MAX_PARTICIPANTS) return 'capacity';
    const problems: string[] = [];
    if (this.races.has(race.raceId)) problems.push(`race.id: race id "${race.raceId}" is already used`);
    for (const p of race.participants) {
      if (credentials.identity(p.participantId)) problems.push(`participant id "${p.participantId}" is already used`);
      if (credentials.tokenInUse(p.deviceToken)) problems.push(`the device token of "${p.participantId}" is already used`);
    }
    return problems.length > 0 ? problems : null;
  }

  /** Adds a race to this process; the problems when it cannot be. */
  private addRace(race: LoadedRace): string[] | 'capacity' | null {
    const problems = this.raceProblems(race);
    if (problems !== null) return problems;
    this.races.set(race.raceId, this.buildRace(race));
    this.registerRace(race, true);
    for (const listener of this.raceAddedListeners) listener(race.raceId);
    return null;
  }

  /** Participants, devices, cutoff and alert thresholds of a race. */
  private registerRace(race: LoadedRace, added = false): void {
    this.deps.sections.register(race, added);
    this.alertThresholds.set(race.raceId, race.alertThresholds);
    for (const p of race.participants) {
      this.deps.credentials.register({ raceId: race.raceId, participantId: p.participantId, bib: p.bib, name: p.name }, p.deviceToken);
    }
  }

  private buildRace(race: LoadedRace): RaceEntry {
    const { deps } = this;
    const base = deps.engineOptions ?? defaultEngineOptions;
    const engineOptions = race.corridorM === null ? base : { ...base, corridorM: race.corridorM };
    const tracker = new RaceTracker(race.raceId, race.course, race.startsAtMs ?? deps.defaultStartMs, race.participants, {
      engine: engineOptions,
      timingPoints: timingPointsFor(race.course, race.namedPoints),
    });
    return {
      raceId: race.raceId,
      name: race.name,
      names: race.names,
      isPrivate: race.isPrivate,
      keyDigest: race.key === null ? null : digest(race.key),
      engineOptions,
      namedPoints: race.namedPoints,
      pointsOfInterest: race.pointsOfInterest,
      tracker,
      courseDigest: null,
      rosterChanges: [],
    };
  }
}
