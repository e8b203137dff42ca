// The wire contract between the server, the web pages and the simulations. Everything a client
// may send or receive over Socket.IO or HTTP is typed here once; docs/PROTOCOL.md describes it.

/** Every error a client can receive. Stable strings: clients branch on them. */
export const ErrorCodes = {
  /** The request body or event payload is not of the documented shape. */
  MALFORMED_REQUEST: 'MALFORMED_REQUEST',
  /** A fix is missing a field, or a field is not a finite number of the right unit. */
  MALFORMED_FIX: 'MALFORMED_FIX',
  /** Latitude outside -90..90 or longitude outside -180..180. */
  COORDINATES_OUT_OF_RANGE: 'COORDINATES_OUT_OF_RANGE',
  /** The fix was recorded later than the server's clock allows (see PROTOCOL.md). */
  FIX_FROM_FUTURE: 'FIX_FROM_FUTURE',
  /** The device credential is missing or matches no participant. */
  UNKNOWN_DEVICE: 'UNKNOWN_DEVICE',
  /**
   * No race with that id, or the race is private and the key is missing or wrong. The two are
   * answered alike so that a private race's existence is not revealed to those without its key.
   */
  UNKNOWN_RACE: 'UNKNOWN_RACE',
  /** No participant with that id. */
  UNKNOWN_PARTICIPANT: 'UNKNOWN_PARTICIPANT',
  /** An organiser-only operation without a valid bearer token. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** The client sends faster than the server accepts; retry later. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A store the server depends on did not answer; the request was not applied; retry. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** Anything unexpected. The message never carries internal detail. */
  INTERNAL: 'INTERNAL',
  /** HTTP route that does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** An uploaded course is not a usable course; `problems` in the body says what and where. */
  INVALID_COURSE: 'INVALID_COURSE',
  /** A live link that was altered, signed by another server, or names a runner no longer in its race. */
  LINK_INVALID: 'LINK_INVALID',
  /** A live link past its expiry. */
  LINK_EXPIRED: 'LINK_EXPIRED',
  /** A live link its runner or the organisers revoked. */
  LINK_REVOKED: 'LINK_REVOKED',
  /** The request is valid but the thing it acts on is not in a state that allows it (an alert resolved already). */
  CONFLICT: 'CONFLICT',
  /** The request body is larger than the route accepts. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /**
   * A server-wide bound is reached (races, live links, stored fixes; docs/SECURITY.md). Nothing
   * was stored; what was accepted before is kept.
   */
  CAPACITY_REACHED: 'CAPACITY_REACHED',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * The one table from error code to HTTP status, used by every HTTP route and printed in
 * docs/PROTOCOL.md. Socket.IO answers carry the code alone.
 */
export const httpStatusOf: Readonly<Record<ErrorCode, number>> = {
  MALFORMED_REQUEST: 400,
  MALFORMED_FIX: 400,
  COORDINATES_OUT_OF_RANGE: 400,
  FIX_FROM_FUTURE: 400,
  UNKNOWN_DEVICE: 401,
  UNKNOWN_RACE: 404,
  UNKNOWN_PARTICIPANT: 404,
  UNAUTHORIZED: 401,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  NOT_FOUND: 404,
  INVALID_COURSE: 400,
  LINK_INVALID: 403,
  LINK_EXPIRED: 410,
  LINK_REVOKED: 410,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  CAPACITY_REACHED: 507,
};

/** The acknowledgement envelope of every Socket.IO request and every HTTP error body. */
export type Ack<T> = { ok: true; data: T } | { ok: false; code: ErrorCode; message: string };

export function okAck<T>(data: T): Ack<T> {
  return { ok: true, data };
}

export function errorAck<T = never>(code: ErrorCode, message: string): Ack<T> {
  return { ok: false, code, message };
}

/**
 * What a runner device reports. Units are in the names; optional fields are omitted rather than
 * sent as null.
 */
export interface FixInput {
  lat: number;
  lon: number;
  /** When the phone measured the position (ms since the Unix epoch), not when it was sent. */
  recordedAtMs: number;
  accuracyM?: number;
  speedMps?: number;
  headingDeg?: number;
  batteryPct?: number;
}

/**
 * Runner statuses as they travel in deltas (one byte). The numbers are part of the wire format:
 * append new ones, never renumber.
 */
export const RunnerStatus = {
  notStarted: 0,
  onCourse: 1,
  offCourse: 2,
  finished: 3,
  /** Did not finish: out of the race, marked by an organiser. */
  dnf: 4,
  /** Disqualified, marked by an organiser. */
  dsq: 5,
} as const;
export type RunnerStatusCode = (typeof RunnerStatus)[keyof typeof RunnerStatus];
export const runnerStatusNames: Record<RunnerStatusCode, string> = {
  0: 'not started',
  1: 'on course',
  2: 'off course',
  3: 'finished',
  4: 'did not finish',
  5: 'disqualified',
};

export type CourseKind = 'street' | 'loop' | 'track';

/**
 * A line along the race where every runner's crossing time is recorded, like a timing mat: each
 * lap line of a loop or track, every 5 km of a street course, points the event file names, and the
 * finish (always last).
 */
export interface TimingPoint {
  name: string;
  distanceAlongRaceM: number;
  kind: 'lap' | 'split' | 'named' | 'finish';
}

/**
 * When a runner crossed a timing point: seconds since the race's start (to a tenth) and the
 * uncertainty of that time (one standard deviation, seconds). null: passed, time not known (an
 * organiser set the lap count by hand).
 */
export type CrossingTime = [sinceStartSec: number, sigmaSec: number] | null;

/** What a point of interest on the course is, for its marker. */
export const POINT_KINDS = ['water', 'food', 'medical', 'toilet', 'info', 'cheer'] as const;
export type PointKind = (typeof POINT_KINDS)[number];

/**
 * A place on the course spectators and runners look for (a water station, first aid), from the
 * event file. On a loop or track it is on every lap: its distance is along the lap.
 */
export interface PointOfInterest {
  name: string;
  kind: PointKind;
  distanceAlongRaceM: number;
}

/** A race as listed to spectators. */
/**
 * A name written in the languages of the pages, when the event file gives it in both scripts
 * (e.g. Latin and Persian): the pages show the one of their language, else `name`.
 */
export type LocalNames = Partial<Record<'en' | 'fa', string>>;

export interface RaceSummary {
  raceId: string;
  name: string;
  names?: LocalNames;
  courseKind: CourseKind;
  raceDistanceM: number;
  startsAtMs: number;
  participantCount: number;
  isPrivate: boolean;
}

/** The course as the viewer needs it to turn distances along the race back into points. */
export interface CourseGeometry {
  raceId: string;
  courseKind: CourseKind;
  /** One lap (a street course is one lap), [lon, lat] pairs. */
  lapCoordinates: [number, number][];
  /** Official length of one lap: the viewer scales the drawn line to it. */
  lapLengthM: number;
  raceDistanceM: number;
  /**
   * How far past the lap line the race starts (a 5,000 m on a track starts 200 m into the lap);
   * `lapCoordinates` start at the race's start, so the lap line is this far before their end.
   */
  startOffsetM: number;
  /** The timing points, in order; a runner's `crossings` are indexed like them. */
  timingPoints: TimingPoint[];
  /** Water stations and other places from the event file, in order along the course. */
  pointsOfInterest: PointOfInterest[];
  /**
   * Altitudes along the lap as drawn (`lapCoordinates`' distances), `[distanceAlongLapM,
   * elevationM]` in order, when the course's file had them (GPX `ele`, GeoJSON altitudes); absent
   * otherwise.
   */
  elevationProfile?: Array<[number, number]>;
}

export interface RunnerSnapshot {
  /** Position of the runner in every delta of this race. */
  runnerIndex: number;
  participantId: string;
  bib: string;
  name: string;
  /** The name in each page language, when the event file gives it so; absent otherwise. */
  names?: LocalNames;
  /** Category labels from the event file (sex, age group, any label); absent when none. */
  categories?: string[];
  distanceAlongRaceM: number;
  /** 1-based lap the runner is on (1 on a street course). */
  lap: number;
  status: RunnerStatusCode;
  /** Snapped position on the course; null until the runner has been placed on it. */
  lat: number | null;
  lon: number | null;
  /** When the runner crossed the finish line (interpolated between the fixes either side of it), or null. */
  finishedAtMs: number | null;
  /** Crossing times of the timing points passed so far, in the course's `timingPoints` order. */
  crossings: CrossingTime[];
}

export interface RaceSnapshot {
  raceId: string;
  /** Sequence number of the last delta already folded into this snapshot. */
  seq: number;
  takenAtMs: number;
  /** The race's start: crossing times count from it. */
  startsAtMs: number;
  runners: RunnerSnapshot[];
}

/** What the server answers to an accepted fix. */
export interface PositionAccepted {
  /** False when the fix was stored but did not move the runner (older than the last, duplicate). */
  applied: boolean;
  distanceAlongRaceM: number;
  lap: number;
  status: RunnerStatusCode;
}

export interface DeviceWelcome {
  participantId: string;
  raceId: string;
  bib: string;
  name: string;
}

/** A closed road section's live state, for organisers (docs/CLOSURES.md). */
export type SectionState = 'waiting' | 'inUse' | 'clearBehindLast' | 'readyToReopen' | 'reopened';

export interface SectionStatus {
  sectionId: string;
  name: string;
  /** The stretches of each race on it, metres along the race (to draw it on the map). */
  spans: Array<{ raceId: string; fromM: number; toM: number }>;
  state: SectionState;
  /** Runners on the section now, and the first and last of them. */
  runnersOn: number;
  firstOn: string | null;
  lastOn: string | null;
  /** Runners (not abandoned) still to pass its end, on it or before it. */
  runnersToPass: number;
  sweeperPassed: boolean;
  /** When the last runner and the sweeper are expected past it; null when it cannot be told. */
  predictedReadyAtMs: number | null;
  plannedReopenAtMs: number | null;
  reopenedAtMs: number | null;
  /** Runners found on the section after it was reopened: each is an alert. */
  runnersOnAfterReopen: string[];
}

/** A change deltas cannot carry: fetch the course and join again. */
export interface RaceChangeNotice {
  raceId: string;
  what: 'course' | 'start' | 'access' | 'roster' | 'laps';
}

/** What a private live link shows: one runner, and the course to place them on. */
export interface FollowSnapshot {
  raceId: string;
  raceName: string;
  raceNames?: LocalNames;
  linkExpiresAtMs: number;
  course: CourseGeometry;
  seq: number;
  runner: RunnerSnapshot;
}

/** A live link as its runner sees it. */
export interface ShareLinkInfo {
  linkId: string;
  expiresAtMs: number;
  /** Path and query of the follow page, to put after the server's address. */
  path: string;
}

export interface JoinRaceRequest {
  raceId: string;
  key?: string;
}

/** A runner's call for help, as organisers receive it. */
export type AlertKind = 'sos' | 'stopped' | 'offCourse' | 'silent' | 'batteryLow' | 'onReopenedSection';

/** Something about a runner that needs an organiser to look, as organisers receive it. */
export interface Alert {
  alertId: string;
  kind: AlertKind;
  /** Organisers acknowledge an alert (someone is on it), then resolve it. */
  state: 'open' | 'acknowledged' | 'resolved';
  /** Whether the condition still holds (an SOS holds until resolved). */
  active: boolean;
  raceId: string;
  participantId: string;
  bib: string;
  name: string;
  raisedAtMs: number;
  updatedAtMs: number;
  /** Where the runner is on the course, or (SOS) where the phone was; raw coordinates for organisers only. */
  lat: number | null;
  lon: number | null;
  distanceAlongRaceM: number | null;
  /** The reopened section, for `onReopenedSection`. */
  sectionId: string | null;
}

export interface SosRequest {
  recordedAtMs: number;
  lat?: number;
  lon?: number;
}

// Socket.IO event maps. Namespace `/device` is for runner devices, `/` for spectators and
// organisers.
export interface DeviceClientToServerEvents {
  position: (fix: FixInput, ack: (result: Ack<PositionAccepted>) => void) => void;
  /** Asks the organisers for help. */
  sos: (request: SosRequest, ack: (result: Ack<{ alertId: string }>) => void) => void;
}
export interface DeviceServerToClientEvents {
  welcome: (info: DeviceWelcome) => void;
}
export interface SpectatorClientToServerEvents {
  'race:join': (request: JoinRaceRequest, ack: (result: Ack<RaceSnapshot>) => void) => void;
  'race:leave': (request: { raceId: string }, ack: (result: Ack<null>) => void) => void;
  /** Follow one runner through a private live link. */
  'follow:join': (request: { link: string }, ack: (result: Ack<FollowSnapshot>) => void) => void;
}
export interface SpectatorServerToClientEvents {
  /** One encoded delta (shared/wire.ts) per race per tick. */
  'race:delta': (raceId: string, delta: Uint8Array) => void;
  /** The race changed in a way deltas cannot say (a new course): fetch the course and join again. */
  'race:changed': (change: RaceChangeNotice) => void;
  /** The followed runner's entry of a race delta (same encoding, one entry), when they moved. */
  'follow:delta': (raceId: string, delta: Uint8Array) => void;
  /** To organisers: a runner asked for help. */
  alert: (alert: Alert) => void;
  /** The link stopped working (expired or revoked); nothing more will come. */
  'follow:ended': (reason: { code: ErrorCode; message: string }) => void;
}

/** Handshake `auth` of the `/device` namespace. */
export interface DeviceAuth {
  deviceToken: string;
}
/** Handshake `auth` of the spectator namespace; both fields optional. */
export interface SpectatorAuth {
  organiserToken?: string;
}

/**
 * What the maps draw under the courses (docs/MAPS.md): nothing (a plain background, no network),
 * the server's own PMTiles archive with the Protomaps basemap style, any MapLibre style URL, or a
 * Mapbox style with a public token.
 */
export type Basemap =
  | { kind: 'none' }
  | { kind: 'pmtiles'; url: string; attribution: string; glyphsUrl: string | null }
  | { kind: 'style'; url: string }
  | { kind: 'mapbox'; token: string };

/** What the web page learns about the server at start. */
export interface ClientConfig {
  basemap: Basemap;
  /** The address phones reach the server at, when configured (PUBLIC_URL). */
  publicUrl: string | null;
  tickMs: number;
  /** The server's clock when it answered (a demo may run it faster than real time). */
  serverNowMs: number;
}
