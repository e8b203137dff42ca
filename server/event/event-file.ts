// The event file: one JSON document describing an event, its races, their courses and their
// participants (docs/EVENT-FILE.md). Everything in it is checked before the server starts, and
// every problem is reported with where it is.
import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { LonLat } from '../../shared/course-path.ts';
import { POINT_KINDS, type LocalNames, type PointOfInterest } from '../../shared/protocol.ts';
import { defaultAlertThresholds, type AlertThresholds } from '../core/alerts.ts';
import type { SectionDefinition } from '../core/closures.ts';
import { buildCourse, type Course, type CourseDefinition } from '../core/course.ts';
import type { NamedPoint } from '../core/timing-points.ts';
import { TRACK_LANES } from '../core/track.ts';
import { strongSecret } from '../secret-strength.ts';
import { describeIssues, parseInput } from '../validation.ts';
import type { ElevationProfile, LineResult } from './course-import.ts';
import { parseLineHere, type LineParser } from './course-parser.ts';

const idSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'use 1 to 64 lower-case letters, digits and dashes, starting with a letter or digit');

const geoCourseFields = {
  /** A GeoJSON LineString, a Feature holding one, or a FeatureCollection with exactly one. */
  geojson: z.unknown().optional(),
  /** A GeoJSON file, or a GPX file named *.gpx, relative to the event file. */
  file: z.string().min(1).optional(),
};

/** How far past the lap line a race starts on a loop or track (a 5,000 m starts 200 m into the lap). */
const startOffsetField = { startOffsetM: z.number().min(0).max(100_000).optional() };

const courseSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('street'), ...geoCourseFields }).strict(),
  z
    .object({ kind: z.literal('loop'), ...geoCourseFields, lapLengthM: z.number().positive().max(100_000).optional(), ...startOffsetField })
    .strict(),
  // A track from its centre and bearing (World Athletics geometry), or drawn as a line that
  // starts at the lap line (a GeoJSON or GPX of its lane).
  z
    .object({
      kind: z.literal('track'),
      centre: z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }).strict().optional(),
      homeStraightBearingDeg: z.number().min(0).max(360).optional(),
      lane: z.number().int().min(1).max(TRACK_LANES).default(1),
      /** Where the finish line is, metres round from the end of the home straight (0: the common finish line). */
      finishLineOffsetM: z.number().min(-400).max(400).optional(),
      ...geoCourseFields,
      lapLengthM: z.number().positive().max(100_000).optional(),
      ...startOffsetField,
    })
    .strict()
    .superRefine((t, ctx) => {
      const generated = t.centre !== undefined || t.homeStraightBearingDeg !== undefined;
      const drawn = t.geojson !== undefined || t.file !== undefined;
      if (generated === drawn) {
        ctx.addIssue({ code: 'custom', message: 'a track is given by its "centre" and "homeStraightBearingDeg", or drawn as a line ("geojson" or "file"), not both or neither' });
      } else if (generated && (t.centre === undefined || t.homeStraightBearingDeg === undefined)) {
        ctx.addIssue({ code: 'custom', path: [t.centre === undefined ? 'centre' : 'homeStraightBearingDeg'], message: 'a generated track needs both its centre and the bearing of its home straight' });
      }
    }),
]);

/** A name in the pages' languages, for names written in two scripts ("Maryam", "مریم"). */
const namesSchema = z
  .object({ en: z.string().trim().min(1).max(120).optional(), fa: z.string().trim().min(1).max(120).optional() })
  .strict()
  .optional();

const participantSchema = z
  .object({
    id: idSchema,
    bib: z.string().min(1).max(16),
    name: z.string().min(1).max(120),
    names: namesSchema,
    /** A sweeper closes the field: road sections wait for them (docs/CLOSURES.md). */
    role: z.enum(['runner', 'sweeper']).default('runner'),
    /** Category labels for results: sex, age group, or any label ("W", "W35", "wheelchair"). */
    categories: z.array(z.string().trim().min(1).max(32)).max(4).optional(),
    /** Credential of the runner's device; generated at start when absent. */
    deviceToken: strongSecret('a device token', 128).optional(),
  })
  .strict();

const raceSchema = z
  .object({
    id: idSchema,
    name: z.string().min(1).max(120),
    names: namesSchema,
    distanceM: z.number().positive().max(1_000_000),
    /** ISO-8601 with an offset. Absent: the race starts when the server starts (demos, rehearsals). */
    startsAt: z.iso.datetime({ offset: true }).optional(),
    private: z.boolean().default(false),
    /** Spectators of a private race need this key. */
    key: strongSecret('a race key', 128).optional(),
    course: courseSchema,
    /** How far from the course a fix may be and still count as on it, metres (default 50). */
    corridorM: z.number().min(10).max(500).optional(),
    /** Slowest pace allowed (the virtual sweeper when no participant is the sweeper), s/km. */
    cutoffPaceSecPerKm: z.number().min(120).max(3600).optional(),
    /**
     * Timing points besides every lap line (loops, tracks) and every 5 km (street): a water
     * station, a half-way mat, km 30 (docs/EVENT-FILE.md).
     */
    timingPoints: z
      .array(z.object({ name: z.string().min(1).max(80), distanceM: z.number().positive() }).strict())
      .max(200)
      .optional(),
    /** Water stations, first aid and other places shown on the course (docs/EVENT-FILE.md). */
    pointsOfInterest: z
      .array(z.object({ name: z.string().trim().min(1).max(60), kind: z.enum(POINT_KINDS), distanceM: z.number().min(0) }).strict())
      .max(200)
      .optional(),
    /** When organisers are alerted, for this race (docs/PROTOCOL.md, alerts). */
    alerts: z
      .object({
        stoppedAfterSec: z.number().min(10).max(86_400).optional(),
        offCourseAfterSec: z.number().min(10).max(86_400).optional(),
        silentAfterSec: z.number().min(10).max(86_400).optional(),
        batteryBelowPct: z.number().min(0).max(100).optional(),
      })
      .strict()
      .optional(),
    participants: z.array(participantSchema).max(0xffff),
  })
  .strict()
  .refine((race) => !race.private || race.key !== undefined, {
    message: 'a private race needs a key of at least 16 characters',
    path: ['key'],
  });

const sectionSchema = z
  .object({
    id: idSchema,
    name: z.string().min(1).max(120),
    /** The stretches of each race on this piece of road, metres along the race. */
    spans: z
      .array(z.object({ raceId: idSchema, fromM: z.number().min(0), toM: z.number().positive() }).strict())
      .min(1)
      .max(50),
    plannedCloseAt: z.iso.datetime({ offset: true }).optional(),
    plannedReopenAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

const eventSchema = z
  .object({
    name: z.string().min(1).max(200),
    races: z.array(raceSchema).min(1),
    /** Closed road sections (docs/CLOSURES.md); street races without any are split per kilometre. */
    sections: z.array(sectionSchema).max(1000).optional(),
  })
  .strict();

export interface LoadedParticipant {
  participantId: string;
  bib: string;
  name: string;
  names?: LocalNames;
  deviceToken: string;
  isSweeper: boolean;
  categories?: string[];
}

export interface LoadedRace {
  raceId: string;
  name: string;
  names: LocalNames | null;
  distanceM: number;
  /** null: starts when the server starts. */
  startsAtMs: number | null;
  isPrivate: boolean;
  key: string | null;
  /** The course built and checked (a definition can be valid JSON and still not a course). */
  course: Course;
  /** How far from the course a fix may be before it is off course; null for the default. */
  corridorM: number | null;
  /** Slowest allowed pace (the virtual sweeper); null: no sweeper is waited for. */
  cutoffPaceSecPerKm: number | null;
  alertThresholds: AlertThresholds;
  /** Timing points named in the event file (lap lines and every 5 km come on top). */
  namedPoints: NamedPoint[];
  /** Water stations and other places on the course, in order. */
  pointsOfInterest: PointOfInterest[];
  participants: LoadedParticipant[];
}

export interface LoadedEvent {
  name: string;
  races: LoadedRace[];
  sections: SectionDefinition[];
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

export async function loadEventFile(path: string, options: { tokenSecret?: string | null } = {}): Promise<LoadedEvent> {
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
  return parseEvent(json, { source: path, baseDir: dirname(resolve(path)), tokenSecret: options.tokenSecret ?? null });
}

/** Checks an event document; course files are read relative to `baseDir`. */
export async function parseEvent(
  json: unknown,
  options: {
    source: string;
    baseDir: string | null;
    /** How course lines are read (default: in this thread). */
    parseLine?: LineParser;
    /**
     * Derives the device token of a participant the file gives none (default: a random one). The
     * same secret gives the same tokens on every process and after every restart, so a phone
     * set up with one keeps working.
     */
    tokenSecret?: string | null;
  },
): Promise<LoadedEvent> {
  const parsed = parseInput(eventSchema, json);
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
      const deviceToken = p.deviceToken ?? generatedToken(p.id, options.tokenSecret ?? null);
      if (tokens.has(deviceToken)) problems.push(`${at}.participants[${i}].deviceToken: used by another participant`);
      tokens.add(deviceToken);
      const categories = p.categories && p.categories.length > 0 ? { categories: [...new Set(p.categories)] } : {};
      const names = localNames(p.names);
      participants.push({ participantId: p.id, bib: p.bib, name: p.name, ...(names ? { names } : {}), deviceToken, isSweeper: p.role === 'sweeper', ...categories });
    }
    const course = await buildCourseFrom(race.course, race.distanceM, options.baseDir, `${at}.course`, problems, options.parseLine ?? parseLineHere);
    if (course) {
      races.push({
        raceId: race.id,
        name: race.name,
        names: localNames(race.names) ?? null,
        distanceM: race.distanceM,
        startsAtMs: race.startsAt === undefined ? null : Date.parse(race.startsAt),
        isPrivate: race.private,
        key: race.key ?? null,
        corridorM: race.corridorM ?? null,
        cutoffPaceSecPerKm: race.cutoffPaceSecPerKm ?? null,
        alertThresholds: {
          stoppedAfterMs: (race.alerts?.stoppedAfterSec ?? defaultAlertThresholds.stoppedAfterMs / 1000) * 1000,
          offCourseAfterMs: (race.alerts?.offCourseAfterSec ?? defaultAlertThresholds.offCourseAfterMs / 1000) * 1000,
          silentAfterMs: (race.alerts?.silentAfterSec ?? defaultAlertThresholds.silentAfterMs / 1000) * 1000,
          batteryBelowPct: race.alerts?.batteryBelowPct ?? defaultAlertThresholds.batteryBelowPct,
        },
        course,
        namedPoints: (race.timingPoints ?? []).map((p) => ({ name: p.name, distanceAlongRaceM: p.distanceM })),
        pointsOfInterest: (race.pointsOfInterest ?? [])
          .map((p) => ({ name: p.name, kind: p.kind, distanceAlongRaceM: p.distanceM }))
          .sort((a, b) => a.distanceAlongRaceM - b.distanceAlongRaceM),
        participants,
      });
      for (const [j, point] of (race.pointsOfInterest ?? []).entries()) {
        const limitM = course.isLapped ? course.lapLengthM : race.distanceM;
        if (point.distanceM > limitM) problems.push(`${at}.pointsOfInterest[${j}].distanceM: must be within the ${course.isLapped ? 'lap' : 'race'} (${limitM} m)`);
      }
      for (const [j, point] of (race.timingPoints ?? []).entries()) {
        if (point.distanceM >= race.distanceM) problems.push(`${at}.timingPoints[${j}].distanceM: must be short of the race's distance (${race.distanceM} m); the finish is a timing point already`);
      }
    }
  }
  if (problems.length > 0) throw new EventFileError(options.source, problems);
  const sections: SectionDefinition[] = [];
  const sectionIds = new Set<string>();
  for (const [i, s] of (event.sections ?? []).entries()) {
    const at = `sections[${i}]`;
    if (sectionIds.has(s.id)) problems.push(`${at}.id: section id "${s.id}" is used twice`);
    sectionIds.add(s.id);
    for (const [j, span] of s.spans.entries()) {
      const race = races.find((r) => r.raceId === span.raceId);
      if (!race) problems.push(`${at}.spans[${j}].raceId: no race "${span.raceId}"`);
      else if (!(span.fromM < span.toM) || span.toM > race.distanceM) {
        problems.push(`${at}.spans[${j}]: needs 0 <= fromM < toM <= the race's distance (${race.distanceM} m)`);
      }
    }
    sections.push({
      sectionId: s.id,
      name: s.name,
      spans: s.spans,
      plannedCloseAtMs: s.plannedCloseAt === undefined ? null : Date.parse(s.plannedCloseAt),
      plannedReopenAtMs: s.plannedReopenAt === undefined ? null : Date.parse(s.plannedReopenAt),
    });
  }
  if (problems.length > 0) throw new EventFileError(options.source, problems);
  return { name: event.name, races, sections };
}

type CourseInput = z.infer<typeof courseSchema>;

/**
 * Builds a course from its definition in the event-file format. Course files are read relative
 * to `baseDir`; with `baseDir` null (an upload) a definition may not name a file.
 */
async function buildCourseFrom(
  c: CourseInput,
  distanceM: number,
  baseDir: string | null,
  at: string,
  problems: string[],
  parseLine: LineParser,
): Promise<Course | null> {
  let definition: CourseDefinition | null = null;
  let profile: ElevationProfile | undefined;
  if (c.kind === 'track' && c.centre !== undefined && c.homeStraightBearingDeg !== undefined) {
    definition = {
      kind: 'track',
      centre: c.centre,
      homeStraightBearingDeg: c.homeStraightBearingDeg,
      lane: c.lane,
      ...(c.finishLineOffsetM !== undefined ? { finishLineOffsetM: c.finishLineOffsetM } : {}),
      ...(c.startOffsetM !== undefined ? { startOffsetM: c.startOffsetM } : {}),
    };
  } else if (baseDir === null && c.file !== undefined) {
    problems.push(`${at}.file: an upload carries its line inline ("geojson") or as the request body, not as a file name`);
  } else {
    const line = await readLineCoordinates(c, baseDir ?? '.', at, problems, parseLine);
    profile = line?.profile;
    const coordinates = line?.coordinates;
    if (coordinates) {
      if (c.kind === 'street') definition = { kind: 'street', coordinates };
      else {
        // A loop or a drawn track: a lap line where the line starts, run round.
        const lapLengthM = c.lapLengthM ?? (c.kind === 'track' ? 400 : undefined);
        definition = { kind: 'loop', coordinates, lapLengthM, startOffsetM: c.startOffsetM ?? 0, courseKind: c.kind };
      }
    }
  }
  if (!definition) return null;
  try {
    const course = buildCourse(definition, distanceM);
    if (profile) course.profile = profile;
    return course;
  } catch (cause) {
    problems.push(`${at}: ${(cause as Error).message}`);
    return null;
  }
}

/**
 * The token of a participant the event file gives none: from the secret when there is one (an
 * HMAC of the participant id, labelled so it can never equal a live link's signature), random
 * otherwise. 18 bytes, as the tokens organisers issue.
 */
function generatedToken(participantId: string, secret: string | null): string {
  if (secret === null) return randomBytes(18).toString('base64url');
  return createHmac('sha256', secret).update(`racetrack device token\n${participantId}`).digest().subarray(0, 18).toString('base64url');
}

/** A race sent in a request (the event file's race object, course line inline, no files). */
export async function parseRaceDefinition(
  json: unknown,
  parseLine: LineParser = parseLineHere,
  /** The event's secret: participants given no device token get the one derived from it, as in the event file. */
  tokenSecret: string | null = null,
): Promise<{ race: LoadedRace } | { problems: string[] }> {
  try {
    const event = await parseEvent({ name: 'new race', races: [json] }, { source: 'the race', baseDir: null, parseLine, tokenSecret });
    return { race: event.races[0]! };
  } catch (err) {
    if (err instanceof EventFileError) return { problems: err.problems.map((p) => p.replace(/^races\[0\]\.?/, 'race.').replace(/^race\.:/, 'race:')) };
    throw err;
  }
}

/** A course definition sent in a request (the event file's `course` object, line inline). */
export async function courseFromDefinition(
  json: unknown,
  distanceM: number,
  parseLine: LineParser = parseLineHere,
): Promise<{ course: Course } | { problems: string[] }> {
  const parsed = parseInput(courseSchema, json);
  if (!parsed.success) return { problems: describeIssues(parsed.error, 'course') };
  const problems: string[] = [];
  const course = await buildCourseFrom(parsed.data, distanceM, null, 'course', problems, parseLine);
  return course ? { course } : { problems };
}

/** A course from a bare line (GeoJSON or GPX) and the kind of course it is. */
export function courseFromLine(
  line: LineResult,
  shape: { kind: 'street' } | { kind: 'loop' | 'track'; lapLengthM?: number; startOffsetM?: number },
  distanceM: number,
): { course: Course } | { problems: string[] } {
  if ('problems' in line) return line;
  try {
    const definition: CourseDefinition =
      shape.kind === 'street'
        ? { kind: 'street', coordinates: line.coordinates }
        : {
            kind: 'loop',
            coordinates: line.coordinates,
            lapLengthM: shape.lapLengthM ?? (shape.kind === 'track' ? 400 : undefined),
            startOffsetM: shape.startOffsetM ?? 0,
            courseKind: shape.kind,
          };
    const course = buildCourse(definition, distanceM);
    if (line.profile) course.profile = line.profile;
    return { course };
  } catch (cause) {
    return { problems: [(cause as Error).message] };
  }
}

async function readLineCoordinates(
  course: { geojson?: unknown; file?: string },
  baseDir: string,
  at: string,
  problems: string[],
  parseLine: LineParser,
): Promise<{ coordinates: LonLat[]; profile?: ElevationProfile } | null> {
  if ((course.geojson === undefined) === (course.file === undefined)) {
    problems.push(`${at}: give the course line either inline as "geojson" or as a "file", not both or neither`);
    return null;
  }
  let result: LineResult;
  let where = `${at}.geojson`;
  if (course.file !== undefined) {
    where = `${at}.file (${course.file})`;
    let text: string;
    try {
      text = await readFile(resolve(baseDir, course.file), 'utf8');
    } catch (cause) {
      problems.push(`${where}: cannot be read (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`);
      return null;
    }
    if (/\.gpx$/i.test(course.file)) {
      result = await parseLine({ gpx: text });
    } else {
      let geojson: unknown;
      try {
        geojson = JSON.parse(text);
      } catch (cause) {
        geojson = undefined;
        result = { problems: [`is not JSON (${(cause as Error).message}); a course file is GeoJSON, or GPX named *.gpx`] };
      }
      result ??= await parseLine({ geojson });
    }
  } else {
    result = await parseLine({ geojson: course.geojson });
  }
  if ('problems' in result) {
    problems.push(...result.problems.map((p) => `${where}: ${p}`));
    return null;
  }
  return result;
}

/** The names given, or nothing when none is (an empty object is no names). */
function localNames(names: LocalNames | undefined): LocalNames | undefined {
  if (!names) return undefined;
  const out: LocalNames = {};
  if (names.en) out.en = names.en;
  if (names.fa) out.fa = names.fa;
  return Object.keys(out).length > 0 ? out : undefined;
}
