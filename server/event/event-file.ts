// The event file: one JSON document describing an event, its races, their courses and their
// participants (docs/EVENT-FILE.md). Everything in it is checked before the server starts, and
// every problem is reported with where it is.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import gjv from 'geojson-validation';
import { z } from 'zod';
import type { LonLat } from '../../shared/course-path.ts';
import { buildCourse, type Course, type CourseDefinition } from '../core/course.ts';
import { TRACK_LANES } from '../core/track.ts';
import { describeIssues } from '../validation.ts';

const idSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'use 1 to 64 lower-case letters, digits and dashes, starting with a letter or digit');

const geoCourseFields = {
  /** A GeoJSON LineString, a Feature holding one, or a FeatureCollection with exactly one. */
  geojson: z.unknown().optional(),
  /** A GeoJSON file, relative to the event file. */
  file: z.string().min(1).optional(),
};

const courseSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('street'), ...geoCourseFields }).strict(),
  z
    .object({ kind: z.literal('loop'), ...geoCourseFields, lapLengthM: z.number().positive().max(100_000).optional() })
    .strict(),
  z
    .object({
      kind: z.literal('track'),
      centre: z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }).strict(),
      homeStraightBearingDeg: z.number().min(0).max(360),
      lane: z.number().int().min(1).max(TRACK_LANES).default(1),
    })
    .strict(),
]);

const participantSchema = z
  .object({
    id: idSchema,
    bib: z.string().min(1).max(16),
    name: z.string().min(1).max(120),
    /** Credential of the runner's device; generated at start when absent. */
    deviceToken: z.string().min(16, 'a device token has at least 16 characters').max(128).optional(),
  })
  .strict();

const raceSchema = z
  .object({
    id: idSchema,
    name: z.string().min(1).max(120),
    distanceM: z.number().positive().max(1_000_000),
    /** ISO-8601 with an offset. Absent: the race starts when the server starts (demos, rehearsals). */
    startsAt: z.iso.datetime({ offset: true }).optional(),
    private: z.boolean().default(false),
    /** Spectators of a private race need this key. */
    key: z.string().min(16, 'a race key has at least 16 characters').max(128).optional(),
    course: courseSchema,
    participants: z.array(participantSchema).max(0xffff),
  })
  .strict()
  .refine((race) => !race.private || race.key !== undefined, {
    message: 'a private race needs a key of at least 16 characters',
    path: ['key'],
  });

const eventSchema = z
  .object({
    name: z.string().min(1).max(200),
    races: z.array(raceSchema).min(1),
  })
  .strict();

export interface LoadedParticipant {
  participantId: string;
  bib: string;
  name: string;
  deviceToken: string;
}

export interface LoadedRace {
  raceId: string;
  name: string;
  distanceM: number;
  /** null: starts when the server starts. */
  startsAtMs: number | null;
  isPrivate: boolean;
  key: string | null;
  /** The course built and checked (a definition can be valid JSON and still not a course). */
  course: Course;
  participants: LoadedParticipant[];
}

export interface LoadedEvent {
  name: string;
  races: LoadedRace[];
}

export class EventFileError extends Error {
  readonly code = 'INVALID_EVENT_FILE';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is not a valid event file:\n  - ${problems.join('\n  - ')}`);
  }
}

export async function loadEventFile(path: string): Promise<LoadedEvent> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new EventFileError(path, [`cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new EventFileError(path, [`is not JSON: ${(cause as Error).message}`]);
  }
  return parseEvent(json, { source: path, baseDir: dirname(resolve(path)) });
}

/** Checks an event document; course files are read relative to `baseDir`. */
export async function parseEvent(json: unknown, options: { source: string; baseDir: string }): Promise<LoadedEvent> {
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) throw new EventFileError(options.source, describeIssues(parsed.error));
  const event = parsed.data;
  const problems: string[] = [];

  const raceIds = new Set<string>();
  const participantIds = new Set<string>();
  const tokens = new Set<string>();
  const races: LoadedRace[] = [];
  for (const [raceIndex, race] of event.races.entries()) {
    const at = `races[${raceIndex}]`;
    if (raceIds.has(race.id)) problems.push(`${at}.id: race id "${race.id}" is used twice`);
    raceIds.add(race.id);
    const participants: LoadedParticipant[] = [];
    for (const [i, p] of race.participants.entries()) {
      if (participantIds.has(p.id)) problems.push(`${at}.participants[${i}].id: participant id "${p.id}" is used twice`);
      participantIds.add(p.id);
      const deviceToken = p.deviceToken ?? randomBytes(18).toString('base64url');
      if (tokens.has(deviceToken)) problems.push(`${at}.participants[${i}].deviceToken: used by another participant`);
      tokens.add(deviceToken);
      participants.push({ participantId: p.id, bib: p.bib, name: p.name, deviceToken });
    }
    let definition: CourseDefinition | null = null;
    const c = race.course;
    if (c.kind === 'track') {
      definition = { kind: 'track', centre: c.centre, homeStraightBearingDeg: c.homeStraightBearingDeg, lane: c.lane };
    } else {
      const coordinates = await readLineCoordinates(c, options.baseDir, `${at}.course`, problems);
      if (coordinates) {
        definition = c.kind === 'loop' ? { kind: 'loop', coordinates, lapLengthM: c.lapLengthM } : { kind: 'street', coordinates };
      }
    }
    let course: Course | null = null;
    if (definition) {
      try {
        course = buildCourse(definition, race.distanceM);
      } catch (cause) {
        problems.push(`${at}.course: ${(cause as Error).message}`);
      }
    }
    if (course) {
      races.push({
        raceId: race.id,
        name: race.name,
        distanceM: race.distanceM,
        startsAtMs: race.startsAt === undefined ? null : Date.parse(race.startsAt),
        isPrivate: race.private,
        key: race.key ?? null,
        course,
        participants,
      });
    }
  }
  if (problems.length > 0) throw new EventFileError(options.source, problems);
  return { name: event.name, races };
}

async function readLineCoordinates(
  course: { geojson?: unknown; file?: string },
  baseDir: string,
  at: string,
  problems: string[],
): Promise<LonLat[] | null> {
  if ((course.geojson === undefined) === (course.file === undefined)) {
    problems.push(`${at}: give the course line either inline as "geojson" or as a "file", not both or neither`);
    return null;
  }
  let geojson = course.geojson;
  let where = `${at}.geojson`;
  if (course.file !== undefined) {
    where = `${at}.file (${course.file})`;
    try {
      geojson = JSON.parse(await readFile(resolve(baseDir, course.file), 'utf8'));
    } catch (cause) {
      problems.push(`${where}: cannot be read as JSON (${(cause as Error).message})`);
      return null;
    }
  }
  const result = lineFromGeoJson(geojson);
  if ('problems' in result) {
    problems.push(...result.problems.map((p) => `${where}: ${p}`));
    return null;
  }
  return result.coordinates;
}

/**
 * The one LineString of a GeoJSON document. The document is checked with geojson-validation first,
 * so a malformed one is reported as such rather than as a missing line.
 */
export function lineFromGeoJson(geojson: unknown): { coordinates: LonLat[] } | { problems: string[] } {
  const errors = gjv.valid(geojson, true);
  if (errors.length > 0) return { problems: errors.map((e) => `invalid GeoJSON: ${e}`) };
  const lines: unknown[] = [];
  const collect = (g: unknown): void => {
    if (typeof g !== 'object' || g === null) return;
    const o = g as { type?: unknown; geometry?: unknown; features?: unknown; coordinates?: unknown };
    if (o.type === 'LineString') lines.push(o.coordinates);
    else if (o.type === 'Feature') collect(o.geometry);
    else if (o.type === 'FeatureCollection' && Array.isArray(o.features)) o.features.forEach(collect);
  };
  collect(geojson);
  if (lines.length !== 1) {
    return { problems: [`needs exactly one LineString (found ${lines.length})`] };
  }
  const coordinates = (lines[0] as number[][]).map((p): LonLat => [p[0]!, p[1]!]);
  const problems: string[] = [];
  const outside = coordinates.flatMap(([lon, lat], i) => (Math.abs(lon) > 180 || Math.abs(lat) > 90 ? [i] : []));
  // A line written [lat, lon] has every coordinate wrong: name a few, count the rest.
  for (const i of outside.slice(0, 3)) {
    const [lon, lat] = coordinates[i]!;
    problems.push(`coordinate ${i} [${lon}, ${lat}] is outside longitude -180..180 / latitude -90..90 (GeoJSON is [longitude, latitude])`);
  }
  if (outside.length > 3) problems.push(`and ${outside.length - 3} more coordinates outside the range`);
  if (coordinates.length < 2) problems.push('a course line needs at least two positions');
  return problems.length > 0 ? { problems } : { coordinates };
}
