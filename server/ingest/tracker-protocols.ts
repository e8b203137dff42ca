// Parsers for the tracker apps runners already have. Each turns one HTTP request's fields into
// the one `FixInput` every protocol shares (units converted here, at the edge), or says what is
// wrong. They read plain values and never touch state: the pipeline after them is protocol-free.
import { z } from 'zod';
import { ErrorCodes, type ErrorCode, type FixInput } from '../../shared/protocol.ts';
import { describeIssues, parseInput } from '../validation.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

const KNOTS_TO_MPS = 1852 / 3600;
const KMH_TO_MPS = 1 / 3.6;
const HDOP_TO_M = 5;
/** OsmAnd's convention: a timestamp below 2^31 is in seconds, above it in milliseconds. */
const SECONDS_LIMIT = 2 ** 31;

const malformed = (message: string): Parsed<never> => ({ ok: false, code: ErrorCodes.MALFORMED_FIX, message });

/** A number written in a query string or a form: finite, or absent when empty. */
function numberField(fields: Record<string, unknown>, name: string): number | undefined | Error {
  const raw = fields[name];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : new Error(`${name} must be a finite number`);
  if (typeof raw !== 'string' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw.trim())) {
    return new Error(`${name} must be a number, got ${JSON.stringify(raw).slice(0, 40)}`);
  }
  return Number(raw);
}

/**
 * A calendar date and time as trackers write it: `yyyy-MM-ddTHH:mm:ss[.fff]` or the same with a
 * space (a `+` in a query string arrives as a space) between date and time, then `Z`, an offset
 * (`+03:30`, `+0330`, `+03`) or nothing. Nothing means UTC: that is how Traccar's own server reads
 * the space form, and a phone that leaves the zone out writes UTC in every app we document.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * The instant a date-time names, or null when it is not one: the parts are checked against the
 * calendar, so 2026-02-30 or 24:00:00 is refused rather than rolled over into the next day.
 */
export function parseDateTime(text: string): number | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return null;
  const milliseconds = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (hours > 18 || minutes > 59) return null;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, milliseconds) - offsetMinutes * 60_000;
}

/**
 * OsmAnd's `timestamp` as Traccar's OsmAnd decoder reads it: a number (seconds below 2^31,
 * milliseconds above), or a date-time (`parseDateTime`). Absent: the time it was received, as
 * Traccar does.
 */
export function parseOsmAndTimestamp(raw: unknown, receivedAtMs: number): number | Error {
  if (raw === undefined || raw === '') return receivedAtMs;
  if (typeof raw !== 'string' && typeof raw !== 'number') return new Error('timestamp must be a number or a date-time');
  const text = String(raw).trim();
  if (/^\d+(\.\d+)?$/.test(text)) {
    const value = Number(text);
    return value < SECONDS_LIMIT ? Math.round(value * 1000) : Math.round(value);
  }
  const parsed = parseDateTime(text);
  if (parsed === null) {
    return new Error(
      `timestamp must be seconds, milliseconds or a date-time (yyyy-MM-ddTHH:mm:ss or yyyy-MM-dd HH:mm:ss, UTC unless Z or an offset says otherwise), got ${JSON.stringify(text).slice(0, 40)}`,
    );
  }
  return parsed;
}

export interface DeviceFix {
  /** The credential the request carries (OsmAnd `id`, Traccar `device_id`). */
  deviceId: string;
  fix: FixInput;
}

/**
 * The OsmAnd protocol as OsmAnd and Traccar Client (classic) send it, and GPSLogger through a
 * custom URL: one fix per request, in the query string or a form body. Speed is in knots, except
 * `speedMps` (GPSLogger's %SPD, documented in docs/trackers/gpslogger.md).
 */
export function parseOsmAnd(fields: Record<string, unknown>, receivedAtMs: number): Parsed<DeviceFix> {
  const deviceId = fields['id'] ?? fields['deviceid'];
  if (typeof deviceId !== 'string' || deviceId === '') {
    return { ok: false, code: ErrorCodes.UNKNOWN_DEVICE, message: 'id (or deviceid) is required' };
  }
  let lat: number | undefined | Error;
  let lon: number | undefined | Error;
  if (typeof fields['location'] === 'string' && fields['lat'] === undefined) {
    const [a, b, ...rest] = fields['location'].split(',');
    if (rest.length > 0 || a === undefined || b === undefined) return malformed('location must be "lat,lon"');
    lat = numberField({ lat: a }, 'lat');
    lon = numberField({ lon: b }, 'lon');
  } else {
    lat = numberField(fields, 'lat');
    lon = numberField(fields, 'lon');
  }
  if (lat === undefined || lon === undefined) return malformed('lat and lon (or location=lat,lon) are required');
  const recordedAtMs = parseOsmAndTimestamp(fields['timestamp'], receivedAtMs);
  const hdop = numberField(fields, 'hdop');
  const optional = {
    // OsmAnd sends HDOP rather than metres: about 5 m of error per unit is the usual reading.
    accuracyM: numberField(fields, 'accuracy') ?? (typeof hdop === 'number' ? hdop * HDOP_TO_M : hdop),
    speedKnots: numberField(fields, 'speed'),
    speedMps: numberField(fields, 'speedMps'),
    headingDeg: numberField(fields, 'bearing') ?? numberField(fields, 'heading'),
    batteryPct: numberField(fields, 'batt'),
  };
  for (const value of [lat, lon, recordedAtMs, ...Object.values(optional)]) {
    if (value instanceof Error) return malformed(value.message);
  }
  const fix: FixInput = { lat: lat as number, lon: lon as number, recordedAtMs: recordedAtMs as number };
  const { accuracyM, speedKnots, speedMps, headingDeg, batteryPct } = optional as Record<string, number | undefined>;
  if (accuracyM !== undefined) fix.accuracyM = accuracyM;
  if (speedMps !== undefined) fix.speedMps = speedMps;
  else if (speedKnots !== undefined) fix.speedMps = speedKnots * KNOTS_TO_MPS;
  if (headingDeg !== undefined) fix.headingDeg = headingDeg;
  if (batteryPct !== undefined) fix.batteryPct = batteryPct;
  return { ok: true, value: { deviceId, fix } };
}

// Traccar Client 9 and later post JSON: one location, or a batch of them after being offline.
const traccarLocation = z.object({
  timestamp: z.string().max(40).refine((t) => parseDateTime(t) !== null, 'timestamp must be a date-time such as 2026-11-22T06:30:00Z').optional(),
  coords: z.object({
    latitude: z.number(),
    longitude: z.number(),
    accuracy: z.number().optional(),
    speed: z.number().optional(),
    heading: z.number().optional(),
    altitude: z.number().optional(),
  }),
  battery: z.object({ level: z.number().optional(), is_charging: z.boolean().optional() }).optional(),
  is_moving: z.boolean().optional(),
  event: z.string().optional(),
});
// The envelope first, the locations one by one: a batch of 10,000 is checked in slices (the
// caller's), and one bad location in an app's buffer does not refuse the others.
const traccarEnvelope = z.object({
  device_id: z.string().min(1),
  location: z.union([z.array(z.unknown()).max(10_000), z.record(z.string(), z.unknown())]),
});

/** A Traccar Client 9+ JSON body: the device id and its locations, not yet checked. */
export function parseTraccarEnvelope(body: unknown): Parsed<{ deviceId: string; locations: unknown[] }> {
  if (typeof body === 'object' && body !== null && !('device_id' in body)) {
    return { ok: false, code: ErrorCodes.UNKNOWN_DEVICE, message: 'device_id is required' };
  }
  const parsed = parseInput(traccarEnvelope, body);
  if (!parsed.success) return malformed(describeIssues(parsed.error).join('; '));
  const { location } = parsed.data;
  return { ok: true, value: { deviceId: parsed.data.device_id, locations: Array.isArray(location) ? location : [location] } };
}

/** One Traccar Client location as a fix. */
export function traccarLocationToFix(raw: unknown, receivedAtMs: number): Parsed<FixInput> {
  const parsed = parseInput(traccarLocation, raw);
  if (!parsed.success) return malformed(describeIssues(parsed.error).join('; '));
  const location = parsed.data;
  const { coords } = location;
  const recordedAtMs = location.timestamp === undefined ? receivedAtMs : parseDateTime(location.timestamp)!;
  const fix: FixInput = { lat: coords.latitude, lon: coords.longitude, recordedAtMs };
  // The SDK reports -1 for what it does not know.
  if (coords.accuracy !== undefined && coords.accuracy >= 0) fix.accuracyM = coords.accuracy;
  if (coords.speed !== undefined && coords.speed >= 0) fix.speedMps = coords.speed;
  if (coords.heading !== undefined && coords.heading >= 0) fix.headingDeg = coords.heading;
  const level = location.battery?.level;
  if (level !== undefined && level >= 0) fix.batteryPct = Math.round(level * 1000) / 10;
  return { ok: true, value: fix };
}

/** A whole Traccar Client body at once (a single location, or tests); the route uses the two steps. */
export function parseTraccarJson(body: unknown, receivedAtMs: number): Parsed<{ deviceId: string; fixes: FixInput[] }> {
  const envelope = parseTraccarEnvelope(body);
  if (!envelope.ok) return envelope;
  const fixes: FixInput[] = [];
  for (const raw of envelope.value.locations) {
    const fix = traccarLocationToFix(raw, receivedAtMs);
    if (!fix.ok) return fix;
    fixes.push(fix.value);
  }
  return { ok: true, value: { deviceId: envelope.value.deviceId, fixes } };
}

// OwnTracks posts one message per request; only `location` messages carry a fix. Zero-valued
// fields are left out by the app, so every field but lat and lon is optional (without tst the fix is stamped on receipt).
const ownTracksLocation = z.object({
  _type: z.literal('location'),
  lat: z.number(),
  lon: z.number(),
  tst: z.number().int().positive().optional(),
  acc: z.number().optional(),
  vel: z.number().optional(),
  cog: z.number().optional(),
  batt: z.number().optional(),
  tid: z.string().optional(),
});

/** An OwnTracks message: a fix for `location`, null for any other type or an empty body. */
export function parseOwnTracks(body: unknown, receivedAtMs: number): Parsed<FixInput | null> {
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)) {
    return { ok: true, value: null };
  }
  if (typeof body !== 'object' || Array.isArray(body)) return malformed('an OwnTracks message is a JSON object');
  if ((body as { _type?: unknown })['_type'] !== 'location') return { ok: true, value: null };
  const parsed = parseInput(ownTracksLocation, body);
  if (!parsed.success) return malformed(describeIssues(parsed.error).join('; '));
  const m = parsed.data;
  const fix: FixInput = { lat: m.lat, lon: m.lon, recordedAtMs: m.tst === undefined ? receivedAtMs : m.tst * 1000 };
  if (m.acc !== undefined) fix.accuracyM = m.acc;
  if (m.vel !== undefined) fix.speedMps = m.vel * KMH_TO_MPS;
  if (m.cog !== undefined) fix.headingDeg = m.cog;
  if (m.batt !== undefined) fix.batteryPct = m.batt;
  return { ok: true, value: fix };
}
