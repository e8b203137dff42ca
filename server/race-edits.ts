// What goes through a race's log besides fixes, and what a race's checkpoint keeps besides its
// runners: organisers' changes (and alerts, device credentials, moves, courses) as every process
// applies them in log order, and the race's settings as a restarted process restores them. Both
// are checked when read back: the log and Redis are outside the process.
import { z } from 'zod';
import { alertSchema } from './alert-book.ts';
import { alertEditSchemas } from './race-alerts.ts';
import { COURSE_LIMITS, MAX_PROFILE_POINTS } from './event/course-import.ts';

/** A participant as a move carries them to their new race. */
export const participantSchema = z.object({
  participantId: z.string().min(1).max(128),
  bib: z.string().max(64),
  name: z.string().max(200),
  names: z.object({ en: z.string().max(200).optional(), fa: z.string().max(200).optional() }).optional(),
  categories: z.array(z.string().max(64)).max(8).readonly().optional(),
});

const lonLatSchema = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]);
const coordinatesSchema = z.array(lonLatSchema).min(2).max(COURSE_LIMITS.maxVertices);
/** A course as it is sent to every process: what it was built from, and the altitudes its file had. */
export const courseRecordSchema = z.object({
  definition: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('street'), coordinates: coordinatesSchema }),
    z.object({
      kind: z.literal('loop'),
      coordinates: coordinatesSchema,
      lapLengthM: z.number().positive().max(100_000).optional(),
      startOffsetM: z.number().min(0).max(100_000).optional(),
      courseKind: z.enum(['loop', 'track']).optional(),
    }),
    z.object({
      kind: z.literal('track'),
      centre: z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }),
      homeStraightBearingDeg: z.number().min(0).max(360),
      lane: z.number().int().min(1).max(9),
      finishLineOffsetM: z.number().min(-400).max(400).optional(),
      startOffsetM: z.number().min(0).max(100_000).optional(),
    }),
  ]),
  raceDistanceM: z.number().positive().max(1_000_000),
  profile: z.array(z.tuple([z.number().min(0).max(1), z.number().finite()])).max(MAX_PROFILE_POINTS).optional(),
});
export type CourseRecord = z.infer<typeof courseRecordSchema>;

/**
 * An organiser's change to a race that every process must apply alike: it goes through the
 * race's log, in order with the pings. Keys travel as digests, never in clear.
 */
export const raceEditSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('outcome'), participantId: z.string().min(1).max(128), outcome: z.enum(['dnf', 'dsq', 'racing']), by: z.string().max(64) }),
  /** An organiser sets the lap a runner is on. */
  z.object({ kind: z.literal('lap'), participantId: z.string().min(1).max(128), lap: z.number().int().min(1).max(100_000), by: z.string().max(64) }),
  /**
   * The race's writer saw a runner fall silent at the line: every process finishes them at the
   * same place among the fixes, checking the evidence again with the same race clock.
   */
  z.object({ kind: z.literal('silence'), participantId: z.string().min(1).max(128), atMs: z.number().finite() }),
  // A road section reopened by an organiser (logged with its first stretch's race).
  z.object({ kind: z.literal('reopen'), sectionId: z.string().min(1).max(128), atMs: z.number().finite(), forced: z.boolean(), by: z.string().max(64) }),
  // A participant's device credential: a new token (the next generation), or none. The generation
  // is taken where the entry is applied, in log order, so every process counts alike.
  z.object({
    kind: z.literal('device'),
    participantId: z.string().min(1).max(128),
    action: z.enum(['issue', 'revoke']),
    by: z.string().max(64),
  }),
  ...alertEditSchemas,
  // A participant moved between races: joins the new race (through its log), then leaves the old
  // one (through that race's log), so each race's roster changes in its own log's order and
  // every process numbers the runners of a race alike.
  z.object({ kind: z.literal('join'), participant: participantSchema, fromRaceId: z.string().min(1).max(128), outcome: z.enum(['dnf', 'dsq']).optional(), by: z.string().max(64) }),
  z.object({ kind: z.literal('leave'), participantId: z.string().min(1).max(128), toRaceId: z.string().min(1).max(128) }),
  // A race put on a new course; `digestHex` names it among the event's courses (EventRecords).
  z.object({ kind: z.literal('course'), digestHex: z.string().regex(/^[0-9a-f]{64}$/), course: courseRecordSchema, by: z.string().max(64) }),
  z.object({
    kind: z.literal('settings'),
    name: z.string().min(1).max(200).optional(),
    startsAtMs: z.number().int().optional(),
    isPrivate: z.boolean().optional(),
    keyDigestHex: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    by: z.string().max(64),
  }),
]);
export type RaceEdit = z.infer<typeof raceEditSchema>;

/** A race's own settings as a checkpoint keeps them, so a restarted process has the organisers' changes. */
export const raceSettingsSchema = z.object({
  name: z.string().min(1).max(200),
  startsAtMs: z.number().int(),
  isPrivate: z.boolean(),
  keyDigestHex: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  /** Sections reopened by hand whose first stretch is on this race: when. */
  reopened: z.record(z.string().max(128), z.number().finite()).optional().catch(undefined),
  /** Device credentials organisers changed, of this race's participants: [generation, revoked]. */
  devices: z.record(z.string().max(128), z.tuple([z.number().int().min(0), z.boolean()])).optional().catch(undefined),
  /**
   * The race's roster as moves changed it, in order: a participant who joined (moved in) or left
   * (moved out), with the DNF/DSQ a joiner brought.
   */
  roster: z
    .array(z.union([z.object({ join: participantSchema, outcome: z.enum(['dnf', 'dsq']).optional() }), z.object({ leave: z.string().min(1).max(128) })]))
    .max(200_000)
    .optional()
    .catch(undefined),
  /** The course put on the race at run time, if one was: its digest among the event's courses. */
  courseDigest: z.string().regex(/^[0-9a-f]{64}$/).optional().catch(undefined),
  /** The race's alerts: every unresolved one and the newest resolved ones. */
  alerts: z.array(alertSchema).max(20_000).optional().catch(undefined),
});
// (Each optional part stands alone: one that cannot be read is left out, not the race's name,
// start and access with it.)
export type RaceSettings = z.infer<typeof raceSettingsSchema>;
