// Seeded fuzzing of every HTTP route and every Socket.IO event (the hardening issue: "no crash,
// no 5xx, only documented codes, and no state change after a rejected input").
//
// Inputs come from one seeded generator (shared/random.ts): valid requests built from what
// the server holds now (races, participants and their tokens, links, alerts, sections), the same
// requests mutated (wrong types, NaN and Infinity as strings, huge and negative numbers, missing
// and extra fields, unicode, long strings, deep nesting, `__proto__`/`constructor` keys, path
// traversal and percent-encoding junk in ids, wrong content types and encodings, truncated JSON,
// duplicate keys and query parameters, methods swapped, credentials altered), and pure junk
// (random requests and events, malformed HTTP and Socket.IO frames on raw connections).
//
// Oracles, per answer: HTTP never 5xx (503 UNAVAILABLE included: the stores are in memory); every
// API answer is JSON, `{ ok: true, data }` on 2xx and `{ ok: false, code, message }` otherwise
// with `code` in ErrorCodes and the status `httpStatusOf[code]`; 429 carries Retry-After and an
// OwnTracks 401 WWW-Authenticate; organiser and device routes never answer 2xx without the
// credential; the public race list never shows a private race. Socket.IO: every request with an
// acknowledgement is answered `{ ok: true, data }` or `{ ok: false, code }` with a documented
// code; a handshake is refused only with a documented `err.data.code`, and exactly when its
// credential is wrong. Throughout: the process does not crash (uncaught exceptions and unhandled
// rejections are caught and counted), the server logs nothing at level error, /healthz answers
// after every chunk, no prototype is polluted, no connection is closed for a well-formed message
// under 64 KB, and every delta the fuzzer's spectators receive decodes.
//
// Answers that are not the API's envelope and are accepted as they are (docs/PROTOCOL.md says
// every HTTP answer is JSON): HEAD (no body), 304 to a conditional GET, Express's automatic
// OPTIONS answer on the ingest router (200 text/plain), engine.io's own answers under
// /socket.io/, Node's own 417 for an unknown Expect, static pages and their redirects (a path
// that is no route, such as /healthz/.., falls through to them), and 507 CAPACITY_REACHED
// (documented for live links and races). Raw requests are only held to "no 5xx".
//
// "No state change after a rejected input", and how it is kept cheap. The fingerprint of the
// state is counters bumped by every write the server makes (ping log and runner-state stores,
// share links issued or revoked, alerts opened or changed, races changed, device tokens dropped),
// the audit's length and newest entry, every race's summary and key digest, every runner's
// tracker state in a few numbers, and the rooms of the fuzzer's spectator sockets: tens of
// microseconds, taken with nothing else in flight. The ticker does not run on its own (a tick of
// an hour); it is driven between chunks, outside every window, so alerts and silent finishes
// never change the state under a check. Inputs are run in chunks of CHUNK_SIZE, in two lanes:
// - read-only inputs (GET/HEAD/OPTIONS outside /ingest, handshakes), which must change nothing
//   whatever they are answered, run concurrently; the fingerprint is compared around the whole
//   batch, and a batch that changed the state is replayed one input at a time to name the culprit;
// - every other input runs on its own: fingerprint, send, answer; if it was refused (non-2xx,
//   `ok: false`, a refused handshake, a raw frame) the fingerprint is taken again after a turn
//   of the event loop and must be unchanged. An accepted input is allowed to change the state.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { connect as netConnect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { io as ioConnect, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { ErrorCodes, httpStatusOf, type ErrorCode } from '../../shared/protocol.ts';
import { lapsInRace } from '../../shared/course-path.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { defaultHttpLimits, type HttpLimits } from '../../server/http/http-limits.ts';
import { createMemoryStores, type Stores } from '../../server/ports/stores.ts';
import { defaultSocketLimits, type SocketLimits } from '../../server/realtime/socket-limits.ts';
import type { RaceService } from '../../server/race-service.ts';
import { ShareLinks } from '../../server/share-links.ts';
import type { Logger } from '../../server/logger.ts';
import { pino } from 'pino';
import { decodeDelta } from '../../shared/wire.ts';
import { seededRandom, type Random } from '../../shared/random.ts';
import { PRIVATE_KEY, testEvent } from './fixtures.ts';
import { startTestServer, TEST_ORGANISER_TOKEN, type TestServer } from './test-server.ts';

/** The seed the test suite runs with unless FUZZ_SEED says otherwise. */
export const DEFAULT_FUZZ_SEED = 20_260_422;

/** Inputs generated and run together: one world refresh, one tick, two lanes. */
const CHUNK_SIZE = 64;
/** How long an answer may take before it counts as none. */
const ANSWER_TIMEOUT_MS = 10_000;
/** The same for an acknowledgement (answered within milliseconds; a missing one costs this long). */
const ACK_TIMEOUT_MS = 3000;
/** A Socket.IO message larger than this may close its connection (maxHttpBufferSize is 64 KB). */
const SOCKET_MESSAGE_LIMIT = 60_000;

/**
 * Budgets so generous that the fuzz exercises the handlers, not the limiter; RATE_LIMITED is
 * still a documented answer.
 */
export const fuzzSocketLimits: SocketLimits = {
  ...defaultSocketLimits,
  spectatorPerSecond: 1_000_000,
  spectatorBurstPer10s: 1_000_000,
  devicePerSecond: 1_000_000,
  deviceBurstPerMinute: 10_000_000,
  // Wrong tokens at connection: the fuzz sends thousands from one address.
  credentialFailuresPerAddress: 10_000_000,
};

/** The same for the HTTP budgets (server/http/http-limits.ts). */
export const fuzzHttpLimits: HttpLimits = {
  ...defaultHttpLimits,
  credentialFailuresPerAddress: 10_000_000,
  ingestPerDevice: 10_000_000,
  organiserPerAddress: 10_000_000,
};

// ---------------------------------------------------------------------------------------------
// The server under test, with its writes counted.

/** Bumped by every write the server makes to state a refused input must not touch. */
export interface WriteCounters {
  store: number;
  links: number;
  alerts: number;
  raceChanges: number;
  tokensDropped: number;
}

class CountingShareLinks extends ShareLinks {
  private readonly counters: WriteCounters;
  constructor(secret: Buffer, counters: WriteCounters) {
    super(secret);
    this.counters = counters;
  }
  // (Rest parameters: the signatures are ShareLinks' own, whatever they become.)
  override async issue(...args: Parameters<ShareLinks['issue']>): ReturnType<ShareLinks['issue']> {
    const issued = await super.issue(...args);
    if (issued) this.counters.links++;
    return issued;
  }
  override async revoke(...args: Parameters<ShareLinks['revoke']>): ReturnType<ShareLinks['revoke']> {
    const revoked = await super.revoke(...args);
    if (revoked) this.counters.links++;
    return revoked;
  }
}

/** Memory stores whose writes (not the leases, which renew on their own) are counted. */
function countingStores(counters: WriteCounters): Stores {
  const stores = createMemoryStores();
  const count = <T extends object>(target: T, names: ReadonlyArray<keyof T & string>): void => {
    for (const name of names) {
      const original = target[name] as unknown as (...args: unknown[]) => unknown;
      Object.defineProperty(target, name, {
        configurable: true,
        writable: true,
        value: (...args: unknown[]) => {
          counters.store++;
          return original.apply(target, args);
        },
      });
    }
  };
  count(stores.pingLog, ['append', 'appendChange']);
  count(stores.runnerStates, ['checkpoint']);
  return stores;
}

/** What the server logged at level error or above: never expected here. */
export interface ServerError {
  msg: string;
  detail: string;
}

export interface FuzzTarget {
  server: TestServer;
  event: LoadedEvent;
  writes: WriteCounters;
  serverErrors: ServerError[];
  close(): Promise<void>;
}

/**
 * A logger that keeps what the server logs at level error and above (a 500, a failed tick, a
 * rejected promise caught and logged). The request log's own line for an answer of 500 or more
 * is left out: the HTTP oracle judges the status itself (a documented 507 is logged at error).
 */
function errorCapturingLogger(into: ServerError[]): Logger {
  return pino(
    { level: 'error', base: undefined },
    {
      write: (line: string) => {
        let entry: { msg?: unknown; req?: unknown; res?: unknown; err?: { type?: unknown; message?: unknown; stack?: unknown } } = {};
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          // (kept as it is below)
        }
        if (entry.req !== undefined && entry.res !== undefined && entry.msg === 'request errored') return;
        const stack = typeof entry.err?.stack === 'string' ? entry.err.stack.split('\n').slice(0, 4).join(' | ') : '';
        into.push({ msg: typeof entry.msg === 'string' ? entry.msg : line.slice(0, 300), detail: stack || String(entry.err?.message ?? '') });
      },
    },
  );
}

/** The test event on a server of its own, with generous limits, counted writes and no ticker of its own. */
export async function startFuzzTarget(): Promise<FuzzTarget> {
  const writes: WriteCounters = { store: 0, links: 0, alerts: 0, raceChanges: 0, tokensDropped: 0 };
  const event = await testEvent(Date.now() - 20 * 60_000, 4);
  const serverErrors: ServerError[] = [];
  const server = await startTestServer({
    event,
    // An hour: the fuzzer drives the ticker between chunks (see the top of this file).
    tickMs: 3_600_000,
    socketLimits: fuzzSocketLimits,
    stores: countingStores(writes),
    shareLinks: new CountingShareLinks(randomBytes(32), writes),
    httpLimits: fuzzHttpLimits,
    logger: errorCapturingLogger(serverErrors),
  });
  server.service.onAlert(() => writes.alerts++);
  server.service.onRaceChanged(() => writes.raceChanges++);
  server.service.onDeviceTokenDropped(() => writes.tokensDropped++);
  return { server, event, writes, serverErrors, close: () => server.close() };
}

// ---------------------------------------------------------------------------------------------
// What the generator knows of the server.

interface RaceInfo {
  raceId: string;
  isPrivate: boolean;
  courseKind: string;
  raceDistanceM: number;
  laps: number;
  at(distanceM: number): [number, number];
}
interface PersonInfo {
  participantId: string;
  raceId: string;
  token: string | null;
}
interface LinkInfo {
  linkId: string;
  token: string;
  participantId: string;
  expiresAtMs: number;
  revoked: boolean;
}
interface World {
  races: RaceInfo[];
  people: PersonInfo[];
  links: LinkInfo[];
  /** Race keys known to work (the fixture's, and those set by accepted changes). */
  keys: Map<string, string>;
  alertIds: string[];
  sectionIds: string[];
  /** How far along their race each participant's valid fixes have got. */
  progress: Map<string, number>;
  /** Lap-line coordinates per race, for course uploads. */
  geometry(raceId: string): Array<[number, number]>;
}

/** Race keys and device tokens strong enough for the server's check (server/secret-strength.ts). */
const FUZZ_KEYS = ['Qm7vZr2pLx9cTw4hKe3n', 'Vb8sNq5yHj2dWf6tPa1x', 'Gk4rMz7uCe9wXo3lBi5q'];
const strongToken = (id: string) => `fz-${createHash('sha256').update(id).digest('hex').slice(0, 24)}`;
const PARK_LOOP: unknown = JSON.parse(readFileSync(new URL('../../server/demo/courses/park-loop-700m.geojson', import.meta.url), 'utf8'));

// ---------------------------------------------------------------------------------------------
// Inputs.

type InputClass = 'valid' | 'mutated' | 'junk';
type Segment = { text: string; raw?: boolean };
type BodySpec =
  | { kind: 'json'; value: unknown; contentType: string | null }
  | { kind: 'form'; fields: Array<[string, string]>; contentType: string | null }
  | { kind: 'bytes'; bytes: Buffer; contentType: string | null; contentEncoding?: string };

interface HttpDraft {
  kind: 'http';
  method: string;
  segments: Segment[];
  query: Array<[string, string]>;
  /** Replaces `query`, as written on the wire. */
  rawQuery: string | null;
  headers: Array<[string, string]>;
  body: BodySpec | null;
  onOk?: (data: unknown, draft: HttpDraft) => void;
}
interface EmitDraft {
  kind: 'emit';
  via: 'anon' | 'organiser' | 'device';
  participantId?: string;
  event: string;
  args: unknown[];
  ack: boolean;
  onOk?: (data: unknown) => void;
}
interface HandshakeDraft {
  kind: 'handshake';
  namespace: '/' | '/device';
  auth: Record<string, unknown>;
}
interface RawHttpDraft {
  kind: 'rawHttp';
  bytes: Buffer;
}
interface RawWsDraft {
  kind: 'rawWs';
  frames: Array<string | Buffer>;
}
type Draft = HttpDraft | EmitDraft | HandshakeDraft | RawHttpDraft | RawWsDraft;

interface WireHttp {
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body: Buffer | null;
}

type FuzzInput = { index: number; surface: string; cls: InputClass } & (
  | (HttpDraft & { wire: WireHttp })
  | EmitDraft
  | HandshakeDraft
  | RawHttpDraft
  | RawWsDraft
);

// ---------------------------------------------------------------------------------------------
// Junk.

const SPECIAL_STRINGS = [
  '', ' ', '0', '-0', '1e999', '-1e999', 'NaN', 'Infinity', '-Infinity', '0x1A', '1,5', '١٢٣', '35.7abc', '+35.7', '.5', '5.',
  'null', 'undefined', 'true', 'false', '[]', '{}', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  '../../etc/passwd', '..\\..\\windows', '%00', '%ZZ', '%', '\u0000', '\ud800', '\udfff', '\u202e', '\u200b', '\ufeff',
  'é', '🏃‍♀️🏁', 'ﷺ', 'Z̸̢̛a̷l̶g̵o', '<script>alert(1)</script>', "' OR 1=1 --", '${7*7}', '{{7*7}}', '\r\nX-Injected: 1',
  'street-10k', 'loop-32k', 's-1', 'dnf', 'racing', '2026-02-30T10:00:00Z', '2026-11-22T24:00:00Z', '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '2026-11-22T06:30:00+14:00', '2026-11-22T06:30:00.123456789Z',
  '2026-11-22 06:30:00', PRIVATE_KEY, TEST_ORGANISER_TOKEN, 'Bearer x',
];

function specialNumbers(): number[] {
  const now = Date.now();
  return [
    0, -0, -1, 1, 0.5, -0.5, 1.5, 90, -90, 90.0000001, -90.0000001, 180, -180, 180.0000001, 360, 360.0001, 100, 100.1, 150,
    150.0001, 100_000, 100_001, 168, 168.0001, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER,
    Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1e308, -1e308, 1e-7, 65_535, 65_536, 946_684_799_999, 946_684_800_000,
    now, now + 29_000, now + 31_000, now + 1e9, Math.floor(now / 1000), now + 0.5, -now, NaN, Infinity, -Infinity,
  ];
}

const JUNK_KEYS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '', ' ', 'x', 'lat', 'lon', 'recordedAtMs',
  'raceId', 'key', 'link', 'id', 'device_id', '_type', 'extra', 'ключ', '$where', 'a.b', 'a[b]', '0', '-1', 'length', 'k'.repeat(300),
];

/**
 * JSON objects that break code treating them as what they imitate: no usable toString or valueOf
 * (String(x) and x >= 1 throw), a `length` that is one of those, array-likes, thenables, toJSON.
 */
const HOSTILE_OBJECTS: readonly unknown[] = [
  { toString: 1, valueOf: 1 },
  { length: { toString: 1 } },
  { length: { valueOf: {}, toString: [] } },
  { length: 4_294_967_296 },
  { length: -1 },
  { 0: 'a', 1: 'b', length: 2 },
  { then: 1 },
  { then: {} },
  { toJSON: 1 },
  { constructor: { name: 1 } },
  { type: 'Buffer', data: [1, 2, 3] },
  { _placeholder: true, num: 0 },
];

const UNICODE_ALPHABET = ['a', 'Z', '9', ' ', 'é', 'ß', 'ж', '中', '🏃', '\u0000', '\u202e', '\ud800', '"', '\\', '/', '%', '&', '=', '?', '#'];

class Gen {
  readonly rng: Random;
  readonly world: World;
  constructor(rng: Random, world: World) {
    this.rng = rng;
    this.world = world;
  }
  chance(p: number): boolean {
    return this.rng.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return this.rng.pick(items);
  }
  int(n: number): number {
    return this.rng.int(n);
  }
  between(min: number, max: number): number {
    return this.rng.between(min, max);
  }
  /**
   * One of the items, or the fallback when there are none; one draw either way, so that what the
   * server holds (how many links, alerts, tokens) does not shift the choices after it: a seed
   * replays the same sequence of choices.
   */
  choose<T, F>(items: readonly T[], fallback: F): T | F {
    const at = this.rng.next();
    return items.length > 0 ? items[Math.floor(at * items.length)]! : fallback;
  }

  race(): RaceInfo | null {
    return this.choose(this.world.races, null);
  }
  raceId(): string {
    return this.race()?.raceId ?? 'street-10k';
  }
  person(withToken = false): PersonInfo | null {
    const people = withToken ? this.world.people.filter((p) => p.token !== null) : this.world.people;
    return this.choose(people, null);
  }
  participantId(): string {
    return this.person()?.participantId ?? 's-1';
  }
  token(): string {
    return this.person(true)?.token ?? 'no-such-device-token-0123456789';
  }
  /** A link issued here: mostly an active one, else any (revoked, expired). */
  link(): LinkInfo | null {
    const preferActive = this.chance(0.7);
    const active = this.world.links.filter((l) => !l.revoked && l.expiresAtMs > Date.now());
    const chosen = this.choose(preferActive && active.length > 0 ? active : this.world.links, null);
    return chosen;
  }
  linkHours(): number {
    const r = this.rng.next();
    if (r < 0.8) return Math.round(this.between(1, 168) * 100) / 100;
    if (r < 0.9) return 24;
    return this.between(0.0001, 0.001); // expires within seconds: LINK_EXPIRED later
  }
  key(raceId: string): string {
    return this.world.keys.get(raceId) ?? PRIVATE_KEY;
  }

  /** A fix a little further along the participant's race, recorded a moment ago. */
  fix(person: PersonInfo): Record<string, number> {
    const race = this.world.races.find((r) => r.raceId === person.raceId);
    let distanceM = (this.world.progress.get(person.participantId) ?? this.between(0, 300)) + this.between(2, 30);
    if (this.chance(0.03)) distanceM = this.between(0, (race?.raceDistanceM ?? 10_000) * 1.05);
    this.world.progress.set(person.participantId, distanceM);
    const [lon, lat] = race ? race.at(Math.min(distanceM, race.raceDistanceM)) : [51.35, 35.7];
    const jitter = () => this.rng.gaussian(4) / 111_000;
    const fix: Record<string, number> = {
      lat: Math.round((lat + jitter()) * 1e7) / 1e7,
      lon: Math.round((lon + jitter()) * 1e7) / 1e7,
      recordedAtMs: Date.now() - this.int(3000),
    };
    if (this.chance(0.7)) fix['accuracyM'] = Math.round(this.between(2, 30) * 10) / 10;
    if (this.chance(0.6)) fix['speedMps'] = Math.round(this.between(1.5, 6) * 100) / 100;
    if (this.chance(0.6)) fix['headingDeg'] = Math.round(this.between(0, 360) * 10) / 10;
    if (this.chance(0.6)) fix['batteryPct'] = this.int(101);
    return fix;
  }

  longString(): string {
    const length = this.pick([17, 100, 257, 1000, 4097, 16_385]);
    const unit = this.chance(0.5) ? this.pick(UNICODE_ALPHABET) : 'a';
    if (this.chance(0.5)) return unit.repeat(length);
    let text = '';
    for (let i = 0; i < Math.min(length, 2000); i++) text += this.pick(UNICODE_ALPHABET);
    return text;
  }

  junkString(): string {
    const r = this.rng.next();
    if (r < 0.6) return this.pick(SPECIAL_STRINGS);
    if (r < 0.75) return String(this.pick(specialNumbers()));
    if (r < 0.9) return this.longString();
    return randomBytes(this.int(40)).toString(this.pick(['base64', 'hex', 'latin1'] as const));
  }

  /** A JSON-able junk value; with `socket`, also what only Socket.IO carries (binary, NaN, undefined). */
  junk(socket = false, depth = 0): unknown {
    const r = this.rng.next();
    if (r < 0.25) return this.pick(specialNumbers());
    if (r < 0.5) return this.junkString();
    if (r < 0.56) return this.pick([null, true, false]);
    if (r < 0.66 && depth < 3) return Array.from({ length: this.int(5) }, () => this.junk(socket, depth + 1));
    if (r < 0.76 && depth < 3) {
      const object: Record<string, unknown> = {};
      for (let i = this.int(5); i > 0; i--) defineKey(object, this.pick(JUNK_KEYS), this.junk(socket, depth + 1));
      return object;
    }
    if (r < 0.8) {
      // Deeply nested.
      const depthN = this.pick([20, 200, 2000]);
      let value: unknown = 1;
      for (let i = 0; i < depthN; i++) value = this.chance(0.5) ? [value] : { a: value };
      return value;
    }
    if (r < 0.83) return Array.from({ length: this.pick([100, 1000, 5000]) }, (_, i) => i * 1.5);
    if (r < 0.86) return cloneValue(this.pick(HOSTILE_OBJECTS));
    if (r < 0.9) return JSON.parse(this.pick(['{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{"polluted":"yes"}}}', '{"__proto__":[1,2]}', '{"__proto__":null}']));
    if (!socket) return this.junkString();
    const s = this.rng.next();
    if (s < 0.3) return randomBytes(this.int(64));
    if (s < 0.5) return undefined;
    if (s < 0.7) return this.pick([NaN, Infinity, -Infinity]);
    if (s < 0.85) return new Uint8Array(this.int(16));
    return new Date(this.pick(specialNumbers()));
  }
}

/** Sets a key as an own property, `__proto__` included (an assignment would set the prototype). */
function defineKey(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function cloneValue(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return value.map(cloneValue);
  if (typeof value === 'object' && value !== null) {
    const copy = {};
    for (const key of Object.keys(value)) defineKey(copy, key, cloneValue((value as Record<string, unknown>)[key]));
    return copy;
  }
  return value;
}

type Path = Array<string | number>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Date);
}

/** Paths to values inside a value (the root is []), a bounded number of them. */
function pathsIn(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (out.length > 200 || prefix.length > 5) return out;
  if (Array.isArray(value)) value.slice(0, 20).forEach((item, i) => pathsIn(item, [...prefix, i], out));
  else if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    for (const key of Object.keys(value).slice(0, 20)) pathsIn((value as Record<string, unknown>)[key], [...prefix, key], out);
  }
  return out;
}

function getAt(root: unknown, path: Path): unknown {
  let value = root;
  for (const step of path) value = (value as Record<string | number, unknown>)[step];
  return value;
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = getAt(root, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof last === 'number') parent[last] = value;
  else defineKey(parent as object, String(last), value);
  return root;
}

/** One to three structural mutations of a JSON-like value. */
function mutateValue(g: Gen, original: unknown, socket: boolean): unknown {
  let value = cloneValue(original);
  for (let n = 1 + g.int(3); n > 0; n--) {
    const paths = pathsIn(value);
    const path = g.pick(paths);
    const target = getAt(value, path);
    const op = g.int(8);
    if (op <= 1) {
      value = setAt(value, path, g.junk(socket));
    } else if (op === 7) {
      // An object posing as what it replaces, a string field's value preferably.
      const strings = paths.filter((p) => typeof getAt(value, p) === 'string');
      value = setAt(value, strings.length > 0 && g.chance(0.7) ? g.pick(strings) : path, cloneValue(g.pick(HOSTILE_OBJECTS)));
    } else if (op === 2 && isPlainObject(target) && Object.keys(target).length > 0) {
      delete target[g.pick(Object.keys(target))];
    } else if (op === 3 && isPlainObject(target)) {
      defineKey(target, g.pick(JUNK_KEYS), g.junk(socket));
    } else if (op === 4) {
      // A number where a number goes, but an edge one (or the same written as a string).
      const numeric = paths.filter((p) => typeof getAt(value, p) === 'number');
      const at = numeric.length > 0 ? g.pick(numeric) : path;
      const edge = g.pick(specialNumbers());
      value = setAt(value, at, g.chance(0.3) ? String(edge) : edge);
    } else if (op === 5) {
      if (typeof target === 'number') value = setAt(value, path, String(target));
      else if (typeof target === 'string') value = setAt(value, path, Number(target) || target.length);
      else if (typeof target === 'boolean') value = setAt(value, path, String(target));
      else value = setAt(value, path, g.junk(socket));
    } else {
      value = g.chance(0.5) ? [value] : { value };
    }
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// HTTP drafts and their wire form.

function http0(method: string, segments: Array<string | Segment>, extra: Partial<HttpDraft> = {}): HttpDraft {
  return {
    kind: 'http',
    method,
    segments: segments.map((s) => (typeof s === 'string' ? { text: s, raw: true } : s)),
    query: [],
    rawQuery: null,
    headers: [],
    body: null,
    ...extra,
  };
}
const param = (text: string): Segment => ({ text });
const json = (value: unknown): BodySpec => ({ kind: 'json', value, contentType: 'application/json' });
const organiser = (): Array<[string, string]> => [['authorization', `Bearer ${TEST_ORGANISER_TOKEN}`]];
const bearer = (token: string): Array<[string, string]> => [['authorization', `Bearer ${token}`]];

/** Percent-encodes what Node's HTTP client will not put in a request line, keeping `%` junk as it is. */
function wireSafePath(path: string): string {
  let out = '';
  for (const ch of path) out += /^[\x21-\x7e]$/.test(ch) ? ch : encodeURIComponent(ch === '\ud800' || ch === '\udfff' ? '\ufffd' : ch);
  return out;
}
function headerSafe(value: string): string {
  return value.replace(/[^\t\x20-\x7e]/g, '?');
}

function encodePairs(pairs: Array<[string, string]>): string {
  const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));
  return pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

function bodyBytes(body: BodySpec): Buffer {
  if (body.kind === 'bytes') return body.bytes;
  if (body.kind === 'form') return Buffer.from(encodePairs(body.fields), 'utf8');
  return Buffer.from(JSON.stringify(body.value) ?? '', 'utf8');
}

function toWire(draft: HttpDraft): WireHttp {
  let path = '/' + draft.segments.map((s) => (s.raw ? s.text : encodeURIComponent(s.text.replace(/[\ud800-\udfff]/g, '\ufffd')))).join('/');
  const query = draft.rawQuery ?? encodePairs(draft.query);
  if (query !== '') path += `?${query}`;
  const headers = draft.headers.map(([k, v]): [string, string] => [k, headerSafe(v)]);
  let body: Buffer | null = null;
  if (draft.body) {
    body = bodyBytes(draft.body);
    const has = (name: string) => headers.some(([k]) => k.toLowerCase() === name);
    if (draft.body.contentType !== null && !has('content-type')) headers.push(['content-type', headerSafe(draft.body.contentType)]);
    if (draft.body.kind === 'bytes' && draft.body.contentEncoding && !has('content-encoding')) headers.push(['content-encoding', draft.body.contentEncoding]);
  }
  // Node answers a request head over 16 KB itself (431, no body), before the application sees
  // it: the raw HTTP surface covers that; here heads stay under it so the API answers.
  let wirePath = wireSafePath(path);
  if (wirePath.length > 9000) wirePath = wirePath.slice(0, 9000);
  let budget = 15_000 - wirePath.length;
  const kept: Array<[string, string]> = [];
  for (const [name, value] of headers) {
    const room = budget - name.length - 4;
    if (room < 1) continue;
    kept.push([name, value.slice(0, room)]);
    budget -= name.length + Math.min(value.length, room) + 4;
  }
  return { method: draft.method, path: wirePath, headers: kept, body };
}

const JUNK_IDS = [
  '', '.', '..', '%2e%2e', '..%2f..%2f..%2fetc%2fpasswd', '%2e%2e%2f%2e%2e%2fpackage.json', '..%5c..%5cwindows', '%ZZ', '%', '%0',
  '%00', '%C0%AE%C0%AE', '%E2%80%AE', '%F0%9F%8F%83', '%FF%FE', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  'STREET-10K', 'street-10k%20', '%20street-10k', 'street-10k;x=1', 'street-10k%2F', 'street-10k%00', 'null', 'undefined', 'NaN',
  '-1', '0', '1e309', "'", '%22', '%3Cscript%3E', 'a'.repeat(300), 'x'.repeat(5000), '*', '(.*)', ':raceId', '%2A',
];
const CONTENT_TYPES = [
  'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=fuzz',
  'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/json; charset=utf-8', 'application/geo+json',
  'application/gpx+xml', 'text/xml', 'text/json', 'application/*', '*/*', '', 'application/json, text/plain', 'APPLICATION/JSON',
  'application/json;;;', 'application/vnd.api+json', 'application/octet-stream', 'x'.repeat(2000),
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

function mutatePairs(g: Gen, pairs: Array<[string, string]>): Array<[string, string]> {
  const out = pairs.map((p): [string, string] => [p[0], p[1]]);
  const op = g.int(5);
  if (op === 0 || out.length === 0) out.push([g.pick([...JUNK_KEYS, 'id[]', 'lat[0]', 'LAT', ' id', 'id ', 'constructor[prototype][x]']), g.junkString()]);
  else if (op === 1) {
    const [key] = g.pick(out);
    out.splice(g.int(out.length + 1), 0, [key, g.junkString()]); // a duplicate key
  } else if (op === 2) out.splice(g.int(out.length), 1);
  else {
    const i = g.int(out.length);
    out[i] = [out[i]![0], g.chance(0.5) ? g.junkString() : String(g.pick(specialNumbers()))];
  }
  return out;
}

function rawQueryJunk(g: Gen, pairs: Array<[string, string]>): string {
  const base = encodePairs(pairs);
  return g.pick([
    `${base}&%ZZ=1`,
    `${base}&lat=%`,
    `${base.replace(/=[^&]*/, '=%E0%A4%A')}`,
    `a=1&&&=&==&${base}`,
    `${base}&__proto__[polluted]=yes`,
    `${base}&constructor[prototype][polluted]=yes`,
    `${base}#fragment`,
    `${base}?${base}`,
    `${base};${base}`,
    base.replace(/&/g, '&amp;'),
    `${base}&${'x'.repeat(6000)}=1`,
    base.replace(/=/g, ''),
    `${base}${'&a=1'.repeat(1200)}`,
  ]);
}

function authJunk(g: Gen, headers: Array<[string, string]>): Array<[string, string]> {
  const others = headers.filter(([k]) => k.toLowerCase() !== 'authorization');
  const current = headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? `Bearer ${TEST_ORGANISER_TOKEN}`;
  const token = current.replace(/^\S+\s+/, '');
  const choice = g.int(14);
  if (choice === 0) return others; // no credential
  const value = [
    '',
    'Bearer',
    'Bearer ',
    `Bearer ${token}x`,
    `bearer ${token}`,
    `Bearer   ${token}   `,
    `Bearer ${token} extra`,
    `Basic ${Buffer.from(`x:${token}`).toString('base64')}`,
    `Bearer ${g.token()}`,
    `Token ${token}`,
    `Bearer ${'a'.repeat(8000)}`,
    `Bearer ${token.slice(0, -1)}`,
    `Bearer ${TEST_ORGANISER_TOKEN}`,
  ][choice - 1]!;
  if (g.chance(0.15)) return [...others, ['authorization', value], ['authorization', current]];
  return [...others, ['authorization', value]];
}

function corruptBody(g: Gen, body: BodySpec, routeLimitBytes: number): BodySpec {
  const text = bodyBytes(body).toString('utf8');
  const contentType = body.contentType;
  const bytes = (b: Buffer | string, encoding?: string): BodySpec => ({
    kind: 'bytes',
    bytes: typeof b === 'string' ? Buffer.from(b, 'utf8') : b,
    contentType,
    ...(encoding ? { contentEncoding: encoding } : {}),
  });
  switch (g.int(13)) {
    case 0:
      return bytes(text.slice(0, g.int(text.length + 1)));
    case 1:
      return bytes(text + g.pick([',', '}', ']]', '\u0000', 'garbage', '{"a":1}', '\n\n\n']));
    case 2: {
      // Duplicate keys, the later one winning in JSON.parse.
      const key = /^\{"([^"]*)"/.exec(text)?.[1] ?? 'x';
      return bytes(text.startsWith('{') && text.endsWith('}') && text.length > 2 ? `${text.slice(0, -1)},"${key}":${JSON.stringify(g.junk())}}` : `{"${key}":1,"${key}":"x"}`);
    }
    case 3:
      return bytes(`\ufeff${text}`);
    case 4: {
      const at = g.int(text.length + 1);
      return bytes(Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(text.slice(at))]));
    }
    case 5: {
      const depth = g.pick([1000, 10_000, 100_000]);
      return bytes(g.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
    }
    case 6: {
      // Past the route's limit (rarely the 2 MB and 5 MB ones: they cost).
      const size = routeLimitBytes <= 20_000 || g.chance(0.1) ? routeLimitBytes + 1 + g.int(2000) : 20_000;
      return bytes(text + ' '.repeat(Math.max(0, size - text.length)));
    }
    case 7:
      return bytes('');
    case 8:
      return bytes(g.pick(['null', '[]', '"str"', '123', 'true', '{}', '{"":""}', 'NaN', 'undefined', "{'a':1}", '{a:1}']));
    case 9:
      return bytes(gzipSync(Buffer.from(text)), 'gzip');
    case 10:
      // A small gzip that inflates past any limit.
      return bytes(gzipSync(Buffer.alloc(g.pick([100_000, 6_000_000]), 0x20)), 'gzip');
    case 11:
      return bytes(Buffer.from(text), g.pick(['gzip', 'deflate', 'br', 'x-unknown', 'gzip, gzip', 'identity', 'GZIP']));
    default:
      return bytes(randomBytes(g.int(500)));
  }
}

function routeLimit(draft: HttpDraft): number {
  const path = draft.segments.map((s) => s.text).join('/');
  if (path.startsWith('ingest')) return draft.body?.kind === 'json' ? 2 * 1024 * 1024 : 16 * 1024;
  if (path.includes('course') || path === 'api/organiser/races') return 5 * 1024 * 1024;
  return 4 * 1024;
}

function mutateHttp(g: Gen, draft: HttpDraft): HttpDraft {
  const d: HttpDraft = { ...draft, segments: [...draft.segments], query: [...draft.query], headers: [...draft.headers] };
  for (let n = 1 + (g.chance(0.3) ? 1 : 0); n > 0; n--) {
    const op = g.int(11);
    const params = d.segments.map((s, i) => (s.raw ? -1 : i)).filter((i) => i >= 0);
    if (op === 0 && params.length > 0) {
      d.segments[g.pick(params)] = g.chance(0.7) ? { text: g.pick(JUNK_IDS), raw: true } : { text: g.junkString() };
    } else if (op === 1) {
      d.query = mutatePairs(g, d.query);
    } else if (op === 2) {
      d.rawQuery = rawQueryJunk(g, d.query);
    } else if (op === 3) {
      d.headers = authJunk(g, d.headers);
    } else if (op === 4) {
      d.headers.push(
        g.pick<[string, string]>([
          ['x-race-key', g.junkString()],
          ['x-limit-u', g.junkString()],
          ['accept', g.junkString()],
          ['cookie', `a=${g.junkString()}`],
          ['x-forwarded-for', g.pick(['1.2.3.4', '::1', 'x'.repeat(500), '127.0.0.1, 10.0.0.1'])],
          ['x-long', 'l'.repeat(8000)],
          ['content-type', g.pick(CONTENT_TYPES)],
          ['expect', '100-continue'],
          ['range', 'bytes=0-1'],
          ['if-none-match', '*'],
        ]),
      );
    } else if ((op === 5 || op === 6) && d.body && d.body.kind === 'json') {
      d.body = { ...d.body, value: mutateValue(g, d.body.value, false) };
    } else if ((op === 5 || op === 6) && d.body && d.body.kind === 'form') {
      d.body = { ...d.body, fields: mutatePairs(g, d.body.fields) };
    } else if (op === 7 && d.body) {
      d.body = corruptBody(g, d.body, routeLimit(d));
    } else if (op === 8) {
      if (d.body) d.body = { ...d.body, contentType: g.pick(CONTENT_TYPES) } as BodySpec;
      else d.body = { kind: 'bytes', bytes: Buffer.from(JSON.stringify(g.junk())), contentType: g.pick(CONTENT_TYPES) };
    } else if (op === 9) {
      d.method = g.pick(METHODS.filter((m) => m !== d.method));
    } else {
      // The path itself: a segment dropped, doubled, added, or the case changed.
      const k = g.int(4);
      if (k === 0 && d.segments.length > 1) d.segments.splice(g.int(d.segments.length), 1);
      else if (k === 1) d.segments.push({ text: g.pick(['', 'x', '..', '%2e%2e', 'extra', 'acknowledge']), raw: true });
      else if (k === 2) d.segments = d.segments.map((s) => ({ ...s, text: s.raw ? s.text.toUpperCase() : s.text }));
      else d.segments.splice(1, 0, { text: '', raw: true });
    }
  }
  return d;
}

function junkHttp(g: Gen): HttpDraft {
  const prefix = g.pick(['', 'api', 'api/races', 'api/organiser', 'api/organiser/participants', 'ingest', 'ingest/osmand', 'ingest/owntracks', 'api/device', 'socket.io', 'assets', 'api/follow', 'healthz']);
  const segments: Segment[] = prefix.split('/').filter((s) => s !== '').map((text) => ({ text, raw: true }));
  for (let i = g.int(3); i > 0; i--) segments.push(g.chance(0.5) ? { text: g.pick(JUNK_IDS), raw: true } : { text: g.junkString() });
  if (segments.length === 0) segments.push({ text: '', raw: true });
  const headers: Array<[string, string]> = [];
  for (let i = g.int(3); i > 0; i--) {
    headers.push([g.pick(['authorization', 'x-race-key', 'content-type', 'x-limit-u', 'accept', 'cookie', 'origin']), g.junkString()]);
  }
  const withBody = g.chance(0.6);
  return {
    kind: 'http',
    method: g.pick(METHODS),
    segments,
    query: Array.from({ length: g.int(4) }, (): [string, string] => [g.pick(JUNK_KEYS), g.junkString()]),
    rawQuery: g.chance(0.2) ? rawQueryJunk(g, []) : null,
    headers,
    body: withBody
      ? g.chance(0.5)
        ? { kind: 'json', value: g.junk(), contentType: g.pick(CONTENT_TYPES) }
        : { kind: 'bytes', bytes: randomBytes(g.int(3000)), contentType: g.pick(CONTENT_TYPES) }
      : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Socket drafts.

const SPECTATOR_EVENTS = ['race:join', 'race:leave', 'follow:join'];
const DEVICE_EVENTS = ['position', 'sos'];
const OTHER_EVENTS = ['race:delta', 'race:changed', 'alert', 'follow:delta', 'follow:ended', 'welcome', 'ping', 'x', '', ' ', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'RACE:JOIN', 'position ', 'e'.repeat(1000), '🏃'];

function mutateEmit(g: Gen, draft: EmitDraft): EmitDraft {
  const d: EmitDraft = { ...draft, args: draft.args.map(cloneValue) };
  const op = g.int(10);
  if (op <= 4) d.args = [mutateValue(g, d.args[0], true)];
  else if (op === 5) d.args = g.pick([[], [d.args[0], g.junk(true)], [g.junk(true), d.args[0]], [d.args[0], d.args[0]]]);
  else if (op === 6) d.ack = !d.ack;
  else if (op === 7) d.args = [setAt(cloneValue(d.args[0]), g.pick(pathsIn(d.args[0])), randomBytes(g.int(32)))];
  else if (op === 8) {
    // A binary placeholder written by hand (socket.io-parser must not trust it); with binary
    // elsewhere the packet is a binary one and the placeholder is looked up.
    const placeholder = { _placeholder: true, num: g.pick<unknown>([0, 1, -1, 99, '0', '__proto__', null, 1.5]) };
    let value = setAt(cloneValue(d.args[0]), g.pick(pathsIn(d.args[0])), placeholder);
    if (g.chance(0.6)) value = [value, randomBytes(4)];
    d.args = [value];
  } else d.event = g.pick([d.event.toUpperCase(), `${d.event} `, d.event.replace(':', '.'), g.pick(OTHER_EVENTS)]);
  return d;
}

function junkEmit(g: Gen): EmitDraft {
  const via = g.pick(['anon', 'organiser', 'device'] as const);
  const person = g.person(true);
  return {
    kind: 'emit',
    via: via === 'device' && !person ? 'anon' : via,
    ...(via === 'device' && person ? { participantId: person.participantId } : {}),
    event: g.pick([...SPECTATOR_EVENTS, ...DEVICE_EVENTS, ...OTHER_EVENTS]),
    args: Array.from({ length: g.int(3) }, () => g.junk(true)),
    ack: g.chance(0.6),
  };
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP and raw Socket.IO frames.

function rawHttpTemplates(g: Gen): string[] {
  const token = g.token();
  return [
    'GET /api/races HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /api/races HTTP/1.0\r\n\r\n',
    'GARBAGE\r\n\r\n',
    'GET /api/races HTTP/1.1\r\nHost x\r\n\r\n',
    'POST /ingest/osmand HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'POST /ingest/osmand HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n',
    `POST /ingest/osmand HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n5\r\n{"dev\r\nFFFFFFFFFFFFFFFF\r\nice_id":"${token}"}\r\n0\r\n\r\n`,
    `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET /api/races HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(17_000)}\r\n\r\n`,
    'GET /api/races\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /api/rac\u00e9s HTTP/1.1\r\nHost: x\r\n\r\n',
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    'GET /api/races HTTP/9.9\r\nHost: x\r\n\r\n',
    'POST /api/organiser/races HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer not-the-token\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"a":',
    'POST /ingest/osmand HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'POST /ingest/osmand HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n',
    'POST /ingest/osmand HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
    'GET /api/races HTTP/1.1\r\nHost: x\r\n\r\nGET /api/config HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n',
    'GET /api/races HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n',
    'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /api/races HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n',
    `GET /ingest/osmand?id=${token}&lat=1&lat=2&lon=3 HTTP/1.1\r\nHost: x\r\n\r\n`,
    'GET http://evil.example/api/races HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
    'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET //api//races HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /api/races HTTP/1.1\r\n\r\n',
    'GET /api/races HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n',
    'GET /api/races HTTP/1.1\nHost: x\n\n',
  ];
}

function rawHttpDraft(g: Gen, cls: InputClass): RawHttpDraft {
  if (cls === 'junk') return { kind: 'rawHttp', bytes: randomBytes(g.int(2000)) };
  const bytes = Buffer.from(g.pick(rawHttpTemplates(g)), 'latin1');
  if (cls === 'mutated') {
    for (let n = 1 + g.int(4); n > 0; n--) {
      const at = g.int(bytes.length);
      bytes[at] = g.pick([0x00, 0x0a, 0x0d, 0x20, 0x3a, 0x7f, 0xff, g.int(256)]);
    }
    return { kind: 'rawHttp', bytes: g.chance(0.3) ? bytes.subarray(0, g.int(bytes.length + 1)) : bytes };
  }
  return { kind: 'rawHttp', bytes };
}

const RAW_FRAMES = [
  '4', '42', '42[', '42["race:join"', '42{}', '42"x"', '42[]', '42[1,2]', '42[null]', '42["disconnect"]', '42["connect"]',
  '42["error",{}]', '42["newListener","x"]', '42["__proto__",{}]', '42["constructor"]', '42["hasOwnProperty"]', '420', '43', '431[]',
  '44', '45', '451-["race:join",{"_placeholder":true,"num":0}]', '451-["race:join",{"_placeholder":true,"num":"__proto__"}]',
  '46', '49', '41', '40/nope,', '40/device,{"deviceToken":5}', '40/device,', '40{"organiserToken":5}', '40{"organiserToken":"x"}',
  '2', '3', '5', '6', '1', '0', '', 'x', `4${'2'.repeat(100)}`, '42999999999999999999["race:leave",{"raceId":"x"}]',
  '42-1["race:leave",{}]', '42["race:join",{"raceId":"street-10k","__proto__":{"polluted":"yes"}}]', '4 2["race:join",{}]',
];

function rawWsDraft(g: Gen, cls: InputClass): RawWsDraft {
  const raceId = g.raceId();
  const valid = ['40', `420["race:join",{"raceId":${JSON.stringify(raceId)}}]`, `421["race:leave",{"raceId":${JSON.stringify(raceId)}}]`];
  if (cls === 'valid') return { kind: 'rawWs', frames: valid };
  const frames: Array<string | Buffer> = g.chance(0.8) ? ['40'] : [];
  for (let n = 1 + g.int(3); n > 0; n--) {
    const r = g.rng.next();
    if (r < 0.6) frames.push(g.pick(RAW_FRAMES));
    else if (r < 0.75) frames.push(randomBytes(g.int(64)));
    else if (r < 0.85) frames.push('451-["race:join",{"_placeholder":true,"num":0}]', randomBytes(4));
    else {
      const frame = g.pick(valid);
      const at = g.int(frame.length);
      frames.push(frame.slice(0, at) + g.pick(['"', '[', ']', '{', ',', '\u0000', '']) + frame.slice(at + 1));
    }
  }
  return { kind: 'rawWs', frames };
}

// ---------------------------------------------------------------------------------------------
// Templates: one per route and event, each building a valid input from the world.

interface Template {
  surface: string;
  weight: number;
  valid(g: Gen): Draft;
}

/** A private race's access, one of the three ways it is given. */
function withAccess(g: Gen, draft: HttpDraft, race: RaceInfo | null): HttpDraft {
  if (!race?.isPrivate) {
    if (g.chance(0.1)) draft.headers.push(...organiser());
    return draft;
  }
  const way = g.int(3);
  if (way === 0) draft.query.push(['key', g.key(race.raceId)]);
  else if (way === 1) draft.headers.push(['x-race-key', g.key(race.raceId)]);
  else draft.headers.push(...organiser());
  return draft;
}

function recordLink(world: World, participantId: string) {
  return (data: unknown): void => {
    const link = data as { linkId?: unknown; link?: unknown; expiresAtMs?: unknown };
    if (typeof link.linkId !== 'string' || typeof link.link !== 'string' || typeof link.expiresAtMs !== 'number') return;
    world.links.push({ linkId: link.linkId, token: link.link, participantId, expiresAtMs: link.expiresAtMs, revoked: false });
    if (world.links.length > 200) world.links.splice(0, world.links.length - 200);
  };
}

function osmandFields(g: Gen, person: PersonInfo): Array<[string, string]> {
  const fix = g.fix(person);
  const fields: Array<[string, string]> = [[g.chance(0.8) ? 'id' : 'deviceid', person.token ?? '']];
  if (g.chance(0.15)) fields.push(['location', `${fix['lat']},${fix['lon']}`]);
  else fields.push(['lat', String(fix['lat'])], ['lon', String(fix['lon'])]);
  const at = fix['recordedAtMs']!;
  const ts = g.int(20);
  if (ts < 8) fields.push(['timestamp', String(Math.round(at / 1000))]);
  else if (ts < 16) fields.push(['timestamp', String(at)]);
  else if (ts < 18) fields.push(['timestamp', new Date(at).toISOString()]);
  else if (ts < 19) fields.push(['timestamp', new Date(at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')]);
  if (fix['accuracyM'] !== undefined) fields.push(g.chance(0.5) ? ['accuracy', String(fix['accuracyM'])] : ['hdop', String(fix['accuracyM'] / 5)]);
  if (fix['speedMps'] !== undefined) fields.push(g.chance(0.5) ? ['speed', String(fix['speedMps'] / 0.514444)] : ['speedMps', String(fix['speedMps'])]);
  if (fix['headingDeg'] !== undefined) fields.push([g.chance(0.5) ? 'bearing' : 'heading', String(fix['headingDeg'])]);
  if (fix['batteryPct'] !== undefined) fields.push(['batt', String(fix['batteryPct'])]);
  if (g.chance(0.5)) fields.push(['altitude', String(Math.round(g.between(1100, 1300)))]);
  return fields;
}

function traccarLocation(g: Gen, person: PersonInfo): Record<string, unknown> {
  const fix = g.fix(person);
  const coords: Record<string, unknown> = { latitude: fix['lat'], longitude: fix['lon'], accuracy: fix['accuracyM'] ?? -1, speed: fix['speedMps'] ?? -1, heading: fix['headingDeg'] ?? -1, altitude: 1187.4 };
  const location: Record<string, unknown> = { coords, is_moving: true, event: 'motionchange' };
  if (g.chance(0.95)) location['timestamp'] = new Date(fix['recordedAtMs']!).toISOString();
  if (fix['batteryPct'] !== undefined) location['battery'] = { level: fix['batteryPct'] / 100, is_charging: false };
  return location;
}

function gpxOf(coordinates: Array<[number, number]>): string {
  const points = coordinates.map(([lon, lat]) => `<trkpt lat="${lat}" lon="${lon}"></trkpt>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="fuzz" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>${points}</trkseg></trk></gpx>`;
}

function templates(): Template[] {
  const list: Template[] = [
    { surface: 'GET /healthz', weight: 1, valid: () => http0('GET', ['healthz']) },
    { surface: 'GET /metrics', weight: 0.5, valid: (g) => http0('GET', ['metrics'], { headers: g.chance(0.8) ? organiser() : [] }) },
    { surface: 'GET /api/config', weight: 1, valid: () => http0('GET', ['api', 'config']) },
    { surface: 'GET /api/races', weight: 2, valid: (g) => http0('GET', ['api', 'races'], { headers: g.chance(0.5) ? organiser() : [] }) },
    ...['', '/course', '/snapshot'].map(
      (suffix): Template => ({
        surface: `GET /api/races/:raceId${suffix}`,
        weight: 2,
        valid: (g) => {
          const race = g.race();
          const segments = ['api', 'races', param(race?.raceId ?? 'street-10k'), ...(suffix ? [suffix.slice(1)] : [])];
          return withAccess(g, http0('GET', segments), race);
        },
      }),
    ),
    {
      surface: 'GET /api/follow',
      weight: 2,
      valid: (g) => {
        const link = g.link();
        return http0('GET', ['api', 'follow'], { query: [['link', link?.token ?? 'no.link']] });
      },
    },
    {
      surface: 'GET static pages',
      weight: 1.5,
      valid: (g) =>
        http0('GET', [g.pick(['', 'index.html', 'follow.html', 'runner.html', 'organiser.html', 'setup.html', 'favicon.ico', 'assets', 'robots.txt', 'web', 'dist', '.env', 'package.json'])], {
          query: g.chance(0.3) ? [['token', g.token()]] : [],
        }),
    },
    {
      surface: 'GET /socket.io (engine.io)',
      weight: 0.3,
      valid: (g) => ({
        ...http0('GET', ['socket.io', '']),
        rawQuery: g.pick(['EIO=4&transport=polling', 'EIO=3&transport=polling', 'EIO=4&transport=websocket', 'EIO=4&transport=polling&sid=nope', '', 'EIO=4&transport=flash']),
      }),
    },
    { surface: 'GET /api/device/me', weight: 1.5, valid: (g) => http0('GET', ['api', 'device', 'me'], { headers: bearer(g.token()) }) },
    {
      surface: 'POST /api/device/share-links',
      weight: 1,
      valid: (g) => {
        const person = g.person(true);
        return http0('POST', ['api', 'device', 'share-links'], {
          headers: bearer(person?.token ?? 'no-such-device-token-0123456789'),
          body: json(g.chance(0.3) ? {} : { validForHours: g.linkHours() }),
          onOk: recordLink(g.world, person?.participantId ?? ''),
        });
      },
    },
    { surface: 'GET /api/device/share-links', weight: 1, valid: (g) => http0('GET', ['api', 'device', 'share-links'], { headers: bearer(g.token()) }) },
    {
      surface: 'DELETE /api/device/share-links/:linkId',
      weight: 0.7,
      valid: (g) => {
        const link = g.link();
        const someone = g.token();
        const owner = g.world.people.find((p) => p.participantId === link?.participantId && p.token !== null);
        return http0('DELETE', ['api', 'device', 'share-links', param(link?.linkId ?? 'no-link')], {
          headers: bearer(owner?.token ?? someone),
          onOk: () => {
            if (link) link.revoked = true;
          },
        });
      },
    },
    { surface: 'GET /api/organiser/devices', weight: 1, valid: () => http0('GET', ['api', 'organiser', 'devices'], { headers: organiser() }) },
    {
      surface: 'POST /api/organiser/participants/:participantId/device-token',
      weight: 0.5,
      valid: (g) => http0('POST', ['api', 'organiser', 'participants', param(g.participantId()), 'device-token'], { headers: organiser() }),
    },
    {
      surface: 'DELETE /api/organiser/participants/:participantId/device-token',
      weight: 0.25,
      valid: (g) => http0('DELETE', ['api', 'organiser', 'participants', param(g.participantId()), 'device-token'], { headers: organiser() }),
    },
    {
      surface: 'POST /api/organiser/participants/:participantId/share-links',
      weight: 1,
      valid: (g) => {
        const participantId = g.participantId();
        return http0('POST', ['api', 'organiser', 'participants', param(participantId), 'share-links'], {
          headers: organiser(),
          body: json(g.chance(0.2) ? {} : { validForHours: g.linkHours() }),
          onOk: recordLink(g.world, participantId),
        });
      },
    },
    {
      surface: 'DELETE /api/organiser/share-links/:linkId',
      weight: 0.6,
      valid: (g) => {
        const link = g.link();
        return http0('DELETE', ['api', 'organiser', 'share-links', param(link?.linkId ?? 'no-link')], {
          headers: organiser(),
          onOk: () => {
            if (link) link.revoked = true;
          },
        });
      },
    },
    { surface: 'GET /api/organiser/alerts', weight: 1, valid: () => http0('GET', ['api', 'organiser', 'alerts'], { headers: organiser() }) },
    {
      surface: 'POST /api/organiser/alerts/:alertId/:action',
      weight: 1,
      valid: (g) =>
        http0('POST', ['api', 'organiser', 'alerts', param(g.choose(g.world.alertIds, 'no-alert')), g.pick(['acknowledge', 'resolve'])], {
          headers: organiser(),
        }),
    },
    { surface: 'GET /api/organiser/sections', weight: 1, valid: () => http0('GET', ['api', 'organiser', 'sections'], { headers: organiser() }) },
    {
      surface: 'POST /api/organiser/sections/:sectionId/reopen',
      weight: 0.6,
      valid: (g) =>
        http0('POST', ['api', 'organiser', 'sections', param(g.choose(g.world.sectionIds, 'no-section')), 'reopen'], {
          headers: organiser(),
          query: g.chance(0.5) ? [['force', 'true']] : [],
        }),
    },
    {
      surface: 'POST /api/organiser/participants/:participantId/lap',
      weight: 1,
      valid: (g) => {
        const lapped = g.world.people.filter((p) => (g.world.races.find((r) => r.raceId === p.raceId)?.laps ?? 1) > 1);
        const preferLapped = g.chance(0.8);
        const person = lapped.length > 0 && preferLapped ? g.choose(lapped, null) : g.person();
        const laps = g.world.races.find((r) => r.raceId === person?.raceId)?.laps ?? 1;
        return http0('POST', ['api', 'organiser', 'participants', param(person?.participantId ?? 's-1'), 'lap'], {
          headers: organiser(),
          body: json({ lap: 1 + g.int(laps) }),
        });
      },
    },
    {
      surface: 'POST /api/organiser/participants/:participantId/outcome',
      weight: 1,
      valid: (g) =>
        http0('POST', ['api', 'organiser', 'participants', param(g.participantId()), 'outcome'], {
          headers: organiser(),
          body: json({ outcome: g.pick(['dnf', 'dsq', 'racing', 'racing']) }),
        }),
    },
    {
      surface: 'POST /api/organiser/races',
      weight: 0.4,
      valid: (g) => {
        const n = 1 + g.int(4);
        const race: Record<string, unknown> = {
          id: `fuzz-race-${n}`,
          name: `Fuzz race ${n}`,
          distanceM: g.pick([4000, 5000, 10_000]),
          startsAt: new Date(Date.now() - 5 * 60_000).toISOString(),
          course: n % 2 === 1 ? { kind: 'track', centre: { lat: 35.7 + n * 0.01, lon: 51.3 }, homeStraightBearingDeg: 90 } : { kind: 'loop', lapLengthM: 700, geojson: PARK_LOOP },
          participants: [1, 2].map((k) => ({ id: `fz${n}-${k}`, bib: `F${n}${k}`, name: `Fuzz ${n}.${k}`, deviceToken: strongToken(`fz${n}-${k}`) })),
        };
        if (n === 4) Object.assign(race, { private: true, key: FUZZ_KEYS[0] });
        return http0('POST', ['api', 'organiser', 'races'], {
          headers: organiser(),
          body: json(race),
          onOk: () => {
            if (n === 4) g.world.keys.set(`fuzz-race-${n}`, FUZZ_KEYS[0]!);
          },
        });
      },
    },
    {
      surface: 'POST /api/organiser/participants/:participantId/move',
      weight: 0.5,
      valid: (g) => {
        const person = g.person();
        const others = g.world.races.filter((r) => r.raceId !== person?.raceId);
        return http0('POST', ['api', 'organiser', 'participants', param(person?.participantId ?? 's-1'), 'move'], {
          headers: organiser(),
          body: json({ raceId: others.length > 0 ? g.pick(others).raceId : g.raceId() }),
        });
      },
    },
    {
      surface: 'PATCH /api/organiser/races/:raceId',
      weight: 1,
      valid: (g) => {
        const raceId = g.raceId();
        const key = g.pick(FUZZ_KEYS);
        const offset = g.pick(['Z', '+03:30', '-05:00']);
        const startMs = Date.now() - g.between(60_000, 3 * 3600_000) + (g.chance(0.05) ? 4 * 3600_000 : 0);
        const shifted = new Date(startMs + (offset === '+03:30' ? 3.5 : offset === '-05:00' ? -5 : 0) * 3600_000).toISOString();
        const body = g.pick<Record<string, unknown>>([
          { name: `Renamed ${g.int(1000)}` },
          { startsAt: offset === 'Z' ? shifted : shifted.replace('Z', offset) },
          { private: true, key },
          { private: false },
          { private: false },
          { key },
          { name: `Race ${g.int(100)}`, private: false },
        ]);
        return http0('PATCH', ['api', 'organiser', 'races', param(raceId)], {
          headers: organiser(),
          body: json(body),
          onOk: (_data, draft) => {
            const sent = draft.body?.kind === 'json' ? (draft.body.value as Record<string, unknown> | null) : null;
            if (sent && typeof sent['key'] === 'string') g.world.keys.set(raceId, sent['key']);
          },
        });
      },
    },
    { surface: 'GET /api/organiser/audit', weight: 0.7, valid: () => http0('GET', ['api', 'organiser', 'audit'], { headers: organiser() }) },
    {
      surface: 'PUT /api/organiser/races/:raceId/course',
      weight: 0.3,
      valid: (g) => {
        const race = g.race();
        const raceId = race?.raceId ?? 'street-10k';
        const variant = g.int(3);
        const draft = http0('PUT', ['api', 'organiser', 'races', param(raceId), 'course'], { headers: organiser() });
        if (variant === 0 || !race) {
          draft.body = json({ kind: 'track', centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: Math.round(g.between(0, 360)) });
        } else if (variant === 1) {
          draft.body = { kind: 'json', value: { type: 'LineString', coordinates: g.world.geometry(raceId) }, contentType: 'application/geo+json' };
        } else {
          draft.body = { kind: 'bytes', bytes: Buffer.from(gpxOf(g.world.geometry(raceId))), contentType: 'application/gpx+xml' };
        }
        return draft;
      },
    },
    {
      surface: 'unknown /api route',
      weight: 0.4,
      valid: (g) => http0(g.pick(['GET', 'POST']), ['api', g.pick(['race', 'races2', 'organiser/nothing', 'device/nothing', 'v2/races', 'admin'])], { headers: g.chance(0.5) ? organiser() : [] }),
    },
    {
      surface: 'GET /ingest/osmand',
      weight: 4,
      valid: (g) => {
        const person = g.person(true);
        return http0('GET', ['ingest', 'osmand'], { query: person ? osmandFields(g, person) : [['id', 'nobody']] });
      },
    },
    {
      surface: 'POST /ingest/osmand (form)',
      weight: 2.5,
      valid: (g) => {
        const person = g.person(true);
        const fields = person ? osmandFields(g, person) : [['id', 'nobody'] as [string, string]];
        // Traccar Client (classic) puts the fields in the query of a form POST; others in the body.
        const inQuery = g.chance(0.3);
        return http0('POST', ['ingest', 'osmand'], {
          query: inQuery ? fields : [],
          body: { kind: 'form', fields: inQuery ? [] : fields, contentType: 'application/x-www-form-urlencoded' },
        });
      },
    },
    {
      surface: 'POST /ingest/osmand (Traccar JSON)',
      weight: 2.5,
      valid: (g) => {
        const person = g.person(true);
        if (!person) return http0('POST', ['ingest', 'osmand'], { body: json({ device_id: 'nobody', location: {} }) });
        const batch = g.chance(0.3);
        // Now and then an offline buffer of hundreds (under the 2 MB limit).
        const size = g.chance(0.03) ? 200 + g.int(1800) : 1 + g.int(5);
        const location = batch ? Array.from({ length: size }, () => traccarLocation(g, person)) : traccarLocation(g, person);
        return http0('POST', ['ingest', 'osmand'], { body: { kind: 'json', value: { device_id: person.token, location }, contentType: g.chance(0.9) ? 'application/json' : 'text/json' } });
      },
    },
    {
      surface: 'POST /ingest/owntracks',
      weight: 3,
      valid: (g) => {
        const person = g.person(true) ?? { participantId: 's-1', raceId: 'street-10k', token: 'nobody' };
        const fix = g.fix(person);
        const headers: Array<[string, string]> = [['authorization', `Basic ${Buffer.from(`${person.participantId}:${person.token}`).toString('base64')}`]];
        if (g.chance(0.5)) headers.push(['x-limit-u', person.participantId], ['x-limit-d', 'phone']);
        const r = g.rng.next();
        let message: unknown;
        if (r < 0.8) {
          const location: Record<string, unknown> = { _type: 'location', lat: fix['lat'], lon: fix['lon'], tid: 'fz' };
          if (g.chance(0.9)) location['tst'] = Math.round(fix['recordedAtMs']! / 1000);
          if (fix['accuracyM'] !== undefined) location['acc'] = Math.round(fix['accuracyM']);
          if (fix['speedMps'] !== undefined) location['vel'] = Math.round(fix['speedMps'] * 3.6);
          if (fix['headingDeg'] !== undefined) location['cog'] = Math.round(fix['headingDeg']);
          if (fix['batteryPct'] !== undefined) location['batt'] = fix['batteryPct'];
          message = location;
        } else if (r < 0.9) message = { _type: 'transition', event: 'leave', lat: fix['lat'], lon: fix['lon'], tst: Math.round(Date.now() / 1000), tid: 'fz' };
        else if (r < 0.95) message = { _type: g.pick(['waypoint', 'lwt', 'status', 'card', 'cmd']) };
        else message = undefined;
        return http0('POST', ['ingest', 'owntracks'], {
          query: g.chance(0.5) ? [['u', person.participantId], ['d', 'phone']] : [],
          headers,
          body: { kind: 'json', value: message, contentType: 'application/json' },
        });
      },
    },
    {
      surface: 'socket / race:join',
      weight: 4,
      valid: (g) => {
        const race = g.race();
        const via = g.chance(0.7) ? 'anon' : 'organiser';
        const request: Record<string, unknown> = { raceId: race?.raceId ?? 'street-10k' };
        if (race?.isPrivate && via === 'anon') request['key'] = g.key(race.raceId);
        return { kind: 'emit', via, event: 'race:join', args: [request], ack: true };
      },
    },
    {
      surface: 'socket / race:leave',
      weight: 2,
      valid: (g) => ({ kind: 'emit', via: g.chance(0.7) ? 'anon' : 'organiser', event: 'race:leave', args: [{ raceId: g.raceId() }], ack: true }),
    },
    {
      surface: 'socket / follow:join',
      weight: 2,
      valid: (g) => {
        // Links that will not expire while followed (an expiry mid-run would change the socket's
        // rooms under a check), or expired already.
        const nowMs = Date.now();
        const usable = g.world.links.filter((l) => l.expiresAtMs > nowMs + 3600_000 || l.expiresAtMs < nowMs - 1000);
        const live = usable.filter((l) => !l.revoked && l.expiresAtMs > nowMs);
        const preferLive = g.chance(0.7);
        const link = g.choose(preferLive && live.length > 0 ? live : usable, null);
        return { kind: 'emit', via: g.chance(0.8) ? 'anon' : 'organiser', event: 'follow:join', args: [{ link: link?.token ?? 'no.link' }], ack: true };
      },
    },
    { surface: 'socket / unknown event', weight: 0.4, valid: (g) => ({ kind: 'emit', via: 'anon', event: g.pick(OTHER_EVENTS), args: [{}], ack: false }) },
    {
      surface: 'socket /device position',
      weight: 6,
      valid: (g) => {
        const person = g.person(true);
        if (!person) return { kind: 'emit', via: 'anon', event: 'position', args: [{}], ack: false };
        return { kind: 'emit', via: 'device', participantId: person.participantId, event: 'position', args: [g.fix(person)], ack: true };
      },
    },
    {
      surface: 'socket /device sos',
      weight: 1.5,
      valid: (g) => {
        const person = g.person(true);
        if (!person) return { kind: 'emit', via: 'anon', event: 'sos', args: [{}], ack: false };
        const fix = g.fix(person);
        const request: Record<string, unknown> = { recordedAtMs: fix['recordedAtMs'] };
        if (g.chance(0.7)) Object.assign(request, { lat: fix['lat'], lon: fix['lon'] });
        return { kind: 'emit', via: 'device', participantId: person.participantId, event: 'sos', args: [request], ack: true };
      },
    },
    {
      surface: 'socket /device unknown event',
      weight: 0.3,
      valid: (g) => {
        const person = g.person(true);
        return { kind: 'emit', via: person ? 'device' : 'anon', ...(person ? { participantId: person.participantId } : {}), event: g.pick(['race:join', 'follow:join', ...OTHER_EVENTS]), args: [{}], ack: false };
      },
    },
    { surface: 'handshake /', weight: 0.6, valid: (g) => ({ kind: 'handshake', namespace: '/', auth: g.chance(0.5) ? {} : { organiserToken: TEST_ORGANISER_TOKEN } }) },
    { surface: 'handshake /device', weight: 0.6, valid: (g) => ({ kind: 'handshake', namespace: '/device', auth: { deviceToken: g.token() } }) },
    { surface: 'raw HTTP', weight: 0.4, valid: (g) => rawHttpDraft(g, 'valid') },
    { surface: 'raw Socket.IO frames', weight: 0.4, valid: (g) => rawWsDraft(g, 'valid') },
  ];
  return list;
}

function mutateHandshake(g: Gen, draft: HandshakeDraft): HandshakeDraft {
  const name = draft.namespace === '/' ? 'organiserToken' : 'deviceToken';
  const current = draft.auth[name];
  const token = typeof current === 'string' ? current : TEST_ORGANISER_TOKEN;
  const auth: Record<string, unknown> = {};
  const r = g.int(8);
  if (r === 0) defineKey(auth, name, g.junk());
  else if (r === 1) defineKey(auth, name, g.pick([`${token} `, ` ${token}`, token.toUpperCase(), token.slice(1), `${token}\u0000`, token + token]));
  else if (r === 2) defineKey(auth, name, draft.namespace === '/' ? g.token() : TEST_ORGANISER_TOKEN);
  else if (r === 3) Object.assign(auth, cloneValue(draft.auth), { extra: g.junk() });
  else if (r === 4) defineKey(auth, g.pick(JUNK_KEYS), g.junk());
  else if (r === 5) defineKey(auth, name, [token]);
  else if (r === 6) defineKey(auth, name, { toString: token });
  else defineKey(auth, name, g.longString());
  return { ...draft, auth };
}

/** Makes the input for one index: valid, mutated or junk, from a template picked by weight. */
class InputGenerator {
  private readonly templates = templates();
  private readonly totalWeight = this.templates.reduce((sum, t) => sum + t.weight, 0);
  private readonly gen: Gen;
  constructor(rng: Random, world: World) {
    this.gen = new Gen(rng, world);
  }

  next(index: number): FuzzInput {
    const g = this.gen;
    const r = g.rng.next();
    const cls: InputClass = r < 0.35 ? 'valid' : r < 0.85 ? 'mutated' : 'junk';
    let surface: string;
    let draft: Draft;
    if (cls === 'junk') {
      const k = g.rng.next();
      if (k < 0.6) [surface, draft] = ['junk HTTP', junkHttp(g)];
      else if (k < 0.9) [surface, draft] = ['junk socket event', junkEmit(g)];
      else if (k < 0.95) [surface, draft] = ['raw HTTP', rawHttpDraft(g, 'junk')];
      else [surface, draft] = ['raw Socket.IO frames', rawWsDraft(g, 'junk')];
    } else {
      let pickAt = g.rng.next() * this.totalWeight;
      const template = this.templates.find((t) => (pickAt -= t.weight) < 0) ?? this.templates[this.templates.length - 1]!;
      surface = template.surface;
      draft = template.valid(g);
      if (cls === 'mutated') {
        if (draft.kind === 'http') draft = mutateHttp(g, draft);
        else if (draft.kind === 'emit') draft = mutateEmit(g, draft);
        else if (draft.kind === 'handshake') draft = mutateHandshake(g, draft);
        else if (draft.kind === 'rawHttp') draft = rawHttpDraft(g, 'mutated');
        else draft = rawWsDraft(g, 'mutated');
      }
    }
    if (draft.kind === 'http') return { index, surface, cls, ...draft, wire: toWire(draft) };
    return { index, surface, cls, ...draft };
  }
}

// ---------------------------------------------------------------------------------------------
// Describing inputs and answers.

function preview(value: unknown, max = 300): string {
  let text: string;
  try {
    text =
      JSON.stringify(value, (_key, v: unknown) => {
        if (v === undefined) return '<undefined>';
        if (typeof v === 'number' && !Number.isFinite(v)) return `<${v}>`;
        if (typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
          return `<Buffer ${(v as { data: unknown[] }).data.length} bytes>`;
        }
        if (v instanceof Uint8Array) return `<${v.constructor.name} ${v.byteLength} bytes>`;
        return v;
      }) ?? 'undefined';
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

export function describeInput(input: FuzzInput): string {
  switch (input.kind) {
    case 'http': {
      const { wire } = input;
      const path = wire.path.length > 300 ? `${wire.path.slice(0, 300)}… (${wire.path.length} chars)` : wire.path;
      const headers = wire.headers.map(([k, v]) => `${k}: ${v.length > 120 ? `${v.slice(0, 120)}…(${v.length})` : v}`).join(' | ');
      const body = wire.body ? ` body(${wire.body.length} bytes)=${preview(wire.body.toString('utf8'), 300)}` : '';
      return `${wire.method} ${path}${headers ? ` [${headers}]` : ''}${body}`;
    }
    case 'emit':
      return `${input.via === 'device' ? `/device (${input.participantId})` : input.via === 'organiser' ? '/ (organiser)' : '/'} emit ${JSON.stringify(input.event.slice(0, 60))} ${input.args.map((a) => preview(a)).join(', ')}${input.ack ? ' with ack' : ' without ack'}`;
    case 'handshake':
      return `connect ${input.namespace} auth=${preview(input.auth)}`;
    case 'rawHttp':
      return `raw bytes ${preview(input.bytes.toString('latin1'), 400)}`;
    case 'rawWs':
      return `raw frames ${input.frames.map((f) => (typeof f === 'string' ? preview(f, 120) : `<binary ${f.length} bytes>`)).join(' ')}`;
  }
}

const documented = new Set<string>(Object.values(ErrorCodes));
const isDocumented = (code: unknown): code is ErrorCode => typeof code === 'string' && documented.has(code);

// ---------------------------------------------------------------------------------------------
// Wire clients.

interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

function sendHttp(port: number, agent: http.Agent, wire: WireHttp): Promise<HttpAnswer> {
  const attempt = (retry: boolean): Promise<HttpAnswer> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of wire.headers) {
        const key = k.toLowerCase();
        const before = headers[key];
        headers[key] = before === undefined ? v : [...(Array.isArray(before) ? before : [before]), v];
      }
      if (wire.body) headers['content-length'] = String(wire.body.length);
      let request: http.ClientRequest;
      try {
        request = http.request({ host: '127.0.0.1', port, method: wire.method, path: wire.path, headers, agent, timeout: ANSWER_TIMEOUT_MS });
      } catch (cause) {
        reject(Object.assign(new Error(`not sent: ${(cause as Error).message}`), { notSent: true }));
        return;
      }
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), ms: performance.now() - started }));
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error('no answer in time')));
      request.on('error', (cause: NodeJS.ErrnoException) => {
        // A kept-alive connection the server had closed: Node's documented retry.
        if (!retry && request.reusedSocket && (cause.code === 'ECONNRESET' || cause.code === 'EPIPE')) attempt(true).then(resolve, reject);
        else reject(cause);
      });
      request.end(wire.body ?? undefined);
    });
  return attempt(false);
}

function sendRawHttp(port: number, bytes: Buffer): Promise<{ status: number | null; text: string }> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/\d\.\d (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : null, text });
    };
    const timer = setTimeout(done, 2000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', () => {});
    socket.on('connect', () => {
      socket.write(bytes);
      // The end of what the client sends: a request cut short is answered or dropped now.
      socket.end();
    });
  });
}

type AnySocket = Socket;

function connectSocket(url: string, namespace: '/' | '/device', auth: Record<string, unknown>): AnySocket {
  return ioConnect(namespace === '/' ? url : `${url}/device`, { auth, transports: ['websocket'], reconnection: false, forceNew: true, timeout: ANSWER_TIMEOUT_MS });
}

function whenConnected(socket: AnySocket): Promise<{ ok: true } | { ok: false; code: unknown; message: string }> {
  return new Promise((resolve) => {
    if (socket.connected) return resolve({ ok: true });
    const timer = setTimeout(() => resolve({ ok: false, code: 'timeout', message: 'no answer to the handshake' }), ANSWER_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ ok: true });
    });
    socket.once('connect_error', (err: Error & { data?: { code?: unknown } }) => {
      clearTimeout(timer);
      resolve({ ok: false, code: err.data?.code, message: err.message });
    });
    // Closed by the server before any answer (a handshake over 64 KB). ("forced close" is the
    // client closing itself after a refusal, before it emits connect_error.)
    socket.io.on('close', (reason: string) => {
      if (reason === 'forced close') return;
      clearTimeout(timer);
      resolve({ ok: false, code: 'closed', message: reason });
    });
  });
}

type EmitOutcome = { kind: 'ack'; ack: unknown; ms: number } | { kind: 'closed'; reason: string } | { kind: 'timeout' } | { kind: 'crashed' } | { kind: 'sent' };

/**
 * Waits for acknowledgements end at once when the process sees an uncaught error (a handler threw:
 * its answer will not come). The crash itself fails the run; the inputs still waiting are not
 * counted as failures of their own.
 */
const crashWatchers = new Set<() => void>();

function emitAndWait(socket: AnySocket, event: string, args: unknown[], withAck: boolean): Promise<EmitOutcome> {
  return new Promise((resolve) => {
    if (!socket.connected) return resolve({ kind: 'closed', reason: 'not connected' });
    const started = performance.now();
    const onCrash = () => finish({ kind: 'crashed' });
    const finish = (outcome: EmitOutcome) => {
      clearTimeout(timer);
      crashWatchers.delete(onCrash);
      socket.off('disconnect', onDisconnect);
      resolve(outcome);
    };
    crashWatchers.add(onCrash);
    const onDisconnect = (reason: string) => finish({ kind: 'closed', reason });
    const timer = setTimeout(() => finish({ kind: 'timeout' }), ACK_TIMEOUT_MS);
    socket.once('disconnect', onDisconnect);
    if (withAck) socket.emit(event, ...args, (ack: unknown) => finish({ kind: 'ack', ack, ms: performance.now() - started }));
    else {
      socket.emit(event, ...args);
      finish({ kind: 'sent' });
    }
  });
}

/** The envelope of an acknowledgement, or what is wrong with it. */
function checkAck(ack: unknown): { ok: boolean; code?: string; problem?: string; data?: unknown } {
  if (typeof ack !== 'object' || ack === null) return { ok: false, problem: `acknowledgement is not an object: ${preview(ack)}` };
  const a = ack as { ok?: unknown; code?: unknown; message?: unknown; data?: unknown };
  if (a.ok === true) return 'data' in a ? { ok: true, data: a.data } : { ok: true, problem: 'ok acknowledgement without data' };
  if (a.ok !== false) return { ok: false, problem: `acknowledgement without ok: ${preview(ack)}` };
  if (!isDocumented(a.code)) return { ok: false, problem: `undocumented code ${preview(a.code)}` };
  if (typeof a.message !== 'string') return { ok: false, code: a.code, problem: 'refusal without a message' };
  if (a.code === ErrorCodes.INTERNAL || a.code === ErrorCodes.UNAVAILABLE) return { ok: false, code: a.code, problem: `${a.code}: ${a.message}` };
  return { ok: false, code: a.code };
}

// ---------------------------------------------------------------------------------------------
// The run.

export interface SurfaceStats {
  inputs: number;
  valid: number;
  mutated: number;
  junk: number;
  refused: number;
  /** Valid inputs that were accepted (2xx, `ok: true`, connected). */
  validAccepted: number;
  maxMs: number;
  totalMs: number;
}

export interface FuzzFailure {
  index: number;
  surface: string;
  cls: InputClass | '-';
  oracle: string;
  detail: string;
  input: string;
  /** Failures like this one (same oracle, surface and start of detail), this one included. */
  alike: number;
}

export interface FuzzReport {
  seed: number;
  inputs: number;
  durationMs: number;
  surfaces: Record<string, SurfaceStats>;
  /** Answers by kind: HTTP status and code, acknowledgement code, handshake outcome. */
  answers: Record<string, number>;
  /** Inputs refused, each with the state compared before and after. */
  stateChecks: number;
  readBatches: number;
  /** Read-only batches replayed input by input because the state changed under them. */
  replayedBatches: number;
  healthChecks: number;
  /** Deltas the fuzzer's spectators received and decoded. */
  deltasDecoded: number;
  /** CPU time of this process (server and fuzzer together), ms: a figure that does not depend on the machine's load. */
  cpuMs: number;
  failures: FuzzFailure[];
  failureCount: number;
}

export interface FuzzOptions {
  seed: number;
  inputs: number;
  /** Read-only requests in flight at once. */
  concurrency?: number;
  /** Progress lines (every `progressEvery` inputs) and the like. */
  log?: (line: string) => void;
  progressEvery?: number;
}

/** Kinds of failure kept for the report (each is logged as it is first seen). */
const MAX_FAILURES_KEPT = 200;

type Fingerprint = Record<string, unknown>;

interface Outcome {
  /** Refused (or answered with nothing that could have changed the state): the state must be as before. */
  refused: boolean;
  /** Answered as done: 2xx, `ok: true`, connected. */
  accepted?: boolean;
  answer: string;
  ms: number;
}

class FuzzRunner {
  private readonly target: FuzzTarget;
  private readonly options: FuzzOptions;
  private readonly service: RaceService;
  private readonly agent: http.Agent;
  private readonly world: World;
  private readonly generator: InputGenerator;
  private readonly report: FuzzReport;
  private spectators: { anon: AnySocket | null; organiser: AnySocket | null } = { anon: null, organiser: null };
  private readonly devices = new Map<string, { socket: AnySocket; token: string }>();
  /** Inputs running now, to name in a crash. */
  private readonly inFlight = new Set<FuzzInput>();
  private readonly prototypeKeys = Object.getOwnPropertyNames(Object.prototype).join(',');
  private readonly arrayKeys = Object.getOwnPropertyNames(Array.prototype).join(',');
  /** Spectator sockets closed on purpose (not a finding). */
  private readonly closing = new Set<AnySocket>();
  private lastInput: FuzzInput | null = null;

  constructor(target: FuzzTarget, options: FuzzOptions) {
    this.target = target;
    this.options = options;
    this.service = target.server.service;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency ?? 8 });
    const service = this.service;
    this.world = {
      races: [],
      people: [],
      links: [],
      keys: new Map(target.event.races.filter((r) => r.key !== null).map((r) => [r.raceId, r.key!])),
      alertIds: [],
      sectionIds: [],
      progress: new Map(),
      geometry: (raceId) => {
        const race = service.race(raceId);
        return race ? service.courseGeometry(race).lapCoordinates : [];
      },
    };
    this.generator = new InputGenerator(seededRandom(options.seed), this.world);
    this.report = {
      seed: options.seed,
      inputs: 0,
      durationMs: 0,
      surfaces: {},
      answers: {},
      stateChecks: 0,
      readBatches: 0,
      replayedBatches: 0,
      healthChecks: 0,
      deltasDecoded: 0,
      cpuMs: 0,
      failures: [],
      failureCount: 0,
    };
  }

  /** The first failure of each kind, by oracle, surface and the start of the detail. */
  private readonly failureKinds = new Map<string, FuzzFailure>();

  private fail(input: FuzzInput | null, oracle: string, detail: string): void {
    this.report.failureCount++;
    const kind = `${oracle}|${input?.surface ?? '-'}|${detail.slice(0, 60)}`;
    const seen = this.failureKinds.get(kind);
    if (seen) {
      seen.alike++;
      return;
    }
    const failure: FuzzFailure = {
      index: input?.index ?? -1,
      surface: input?.surface ?? '-',
      cls: input?.cls ?? '-',
      oracle,
      detail: detail.length > 600 ? `${detail.slice(0, 600)}…` : detail,
      input: input ? describeInput(input) : '-',
      alike: 1,
    };
    this.failureKinds.set(kind, failure);
    if (this.report.failures.length < MAX_FAILURES_KEPT) this.report.failures.push(failure);
    this.options.log?.(`fuzz failure #${input?.index ?? '-'} [${input?.surface ?? '-'}] ${oracle}: ${detail.slice(0, 200)} (seed ${this.options.seed})`);
  }

  private count(answer: string): void {
    this.report.answers[answer] = (this.report.answers[answer] ?? 0) + 1;
  }

  private readonly onCrash = (cause: unknown): void => {
    const running = [...this.inFlight];
    const culprit = running[0] ?? this.lastInput;
    this.fail(culprit, 'crash', `uncaught ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}${running.length > 1 ? ` (${running.length} inputs in flight)` : ''}`);
    for (const watcher of crashWatchers) watcher();
  };

  async run(): Promise<FuzzReport> {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    process.on('uncaughtException', this.onCrash);
    process.on('unhandledRejection', this.onCrash);
    try {
      await this.ensureSpectators();
      this.refreshWorld(0);
      await this.selfCheck();
      const every = this.options.progressEvery ?? 0;
      for (let start = 0; start < this.options.inputs; start += CHUNK_SIZE) {
        await this.target.server.app.ticker.tick();
        await settle();
        this.reportServerErrors(this.lastInput, ' during a tick (after the input shown)');
        await this.ensureSpectators();
        this.refreshWorld(start);
        const inputs: FuzzInput[] = [];
        for (let i = start; i < Math.min(this.options.inputs, start + CHUNK_SIZE); i++) inputs.push(this.generator.next(i));
        const reads = inputs.filter((input) => this.isReadOnly(input));
        const others = inputs.filter((input) => !this.isReadOnly(input));
        await this.runReadBatch(reads);
        for (const input of others) await this.runChecked(input);
        await this.checkAlive(null);
        const done = Math.min(this.options.inputs, start + CHUNK_SIZE);
        if (every > 0 && Math.floor(done / every) > Math.floor(start / every)) {
          this.options.log?.(`fuzz seed ${this.options.seed}: ${done}/${this.options.inputs} inputs, ${((performance.now() - started) / 1000).toFixed(1)} s, ${this.report.failureCount} failures`);
        }
      }
      await this.target.server.app.ticker.tick();
      await settle();
      this.reportServerErrors(this.lastInput, ' during a tick (after the input shown)');
      await this.finalChecks();
    } finally {
      process.off('uncaughtException', this.onCrash);
      process.off('unhandledRejection', this.onCrash);
      this.report.durationMs = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      this.report.cpuMs = (cpu.user + cpu.system) / 1000;
      await this.dispose();
    }
    return this.report;
  }

  /** The fingerprint must see an accepted fix and a joined room, or every check after it is blind. */
  private async selfCheck(): Promise<void> {
    const person = this.world.people.find((p) => p.token !== null);
    const device = person ? this.service.authenticateDevice(person.token) : null;
    const race = this.world.races.find((r) => r.raceId === device?.raceId);
    if (!device || !race) throw new Error('fuzz self-check: the test event has no participant with a device token');
    const [lon, lat] = race.at(50);
    let before = await this.fingerprint();
    const ack = await this.service.ingestFix(device, { lat, lon, recordedAtMs: Date.now() - 10_000 });
    if (!ack.ok || FuzzRunner.diff(before, await this.fingerprint()) === null) this.fail(null, 'self-check: the state fingerprint does not see an accepted fix', preview(ack));
    const socket = this.spectators.anon!;
    before = await this.fingerprint();
    const joined = await emitAndWait(socket, 'race:join', [{ raceId: this.service.listRaces({ includePrivate: false })[0]?.raceId }], true);
    if (joined.kind !== 'ack' || FuzzRunner.diff(before, await this.fingerprint()) === null) this.fail(null, 'self-check: the state fingerprint does not see a joined room', preview(joined));
  }

  private async dispose(): Promise<void> {
    for (const socket of [this.spectators.anon, this.spectators.organiser, ...[...this.devices.values()].map((d) => d.socket)]) {
      if (!socket) continue;
      this.closing.add(socket);
      socket.disconnect();
    }
    this.devices.clear();
    this.agent.destroy();
  }

  private refreshWorld(start: number): void {
    const s = this.service;
    this.world.races = s.listRaces({ includePrivate: true }).flatMap((summary) => {
      const race = s.race(summary.raceId);
      if (!race) return [];
      const course = race.tracker.course;
      return [
        {
          raceId: summary.raceId,
          isPrivate: summary.isPrivate,
          courseKind: summary.courseKind,
          raceDistanceM: summary.raceDistanceM,
          laps: course.isLapped ? lapsInRace(course.lapLengthM, course.raceDistanceM, course.startOffsetM) : 1,
          at: (m: number) => {
            const [lon, lat] = course.path.pointAtRaceDistance(m);
            return [lon, lat] as [number, number];
          },
        },
      ];
    });
    this.world.people = s.deviceCredentials().map((d) => ({ participantId: d.participantId, raceId: d.raceId, token: d.deviceToken }));
    this.world.alertIds = s.recentAlerts().slice(-40).map((a) => a.alertId);
    if (start % (CHUNK_SIZE * 16) === 0) this.world.sectionIds = s.sectionStatuses().map((section) => section.sectionId);
  }

  private isReadOnly(input: FuzzInput): boolean {
    if (input.kind === 'handshake') return true;
    if (input.kind !== 'http') return false;
    return ['GET', 'HEAD', 'OPTIONS'].includes(input.wire.method) && !input.wire.path.toLowerCase().includes('ingest');
  }

  // --- state fingerprints -------------------------------------------------------------------

  private async fingerprint(): Promise<Fingerprint> {
    const s = this.service;
    const w = this.target.writes;
    const audit = await s.audit();
    let races = '';
    let runners = '';
    for (const summary of s.listRaces({ includePrivate: true })) {
      const race = s.race(summary.raceId);
      races += `${JSON.stringify(summary)}:${race?.keyDigest?.toString('hex') ?? '-'}\n`;
      if (!race) continue;
      const t = race.tracker;
      runners += `${summary.raceId}:${t.sequence}:${t.hasPendingDelta}:${t.newestFixAtMs};`;
      for (const p of t.participants) {
        const st = t.runnerState(p.participantId);
        if (st) {
          runners += `${p.participantId},${st.status},${st.distanceAlongRaceM},${st.confirmedDistanceM},${st.lastFixAtMs},${st.rejectedInARow},${st.stillFixes},${st.suspect?.fixes ?? 0},${st.pending?.fixes ?? 0},${st.beyond?.fixes ?? 0};`;
        }
      }
    }
    return {
      storeWrites: w.store,
      linkWrites: w.links,
      alertChanges: w.alerts,
      raceChanges: w.raceChanges,
      tokensDropped: w.tokensDropped,
      auditLength: audit.length,
      auditNewest: JSON.stringify(audit[audit.length - 1] ?? null),
      races,
      runners,
      rooms: this.roomsText(),
    };
  }

  private roomsText(): string {
    const rooms = (socket: AnySocket | null) => {
      const id = socket?.id;
      const server = id ? this.target.server.app.spectators.sockets.get(id) : undefined;
      return server ? [...server.rooms].filter((r) => r !== id).sort().join(',') : '-';
    };
    return `anon[${rooms(this.spectators.anon)}] organiser[${rooms(this.spectators.organiser)}]`;
  }

  private static diff(before: Fingerprint, after: Fingerprint): string | null {
    const changed = Object.keys(before).filter((key) => !Object.is(before[key], after[key]));
    if (changed.length === 0) return null;
    return changed
      .map((key) => {
        const a = before[key];
        const b = after[key];
        if (typeof a === 'string' && typeof b === 'string') {
          let at = 0;
          while (at < a.length && a[at] === b[at]) at++;
          return `${key}: …${a.slice(Math.max(0, at - 40), at + 80)}… → …${b.slice(Math.max(0, at - 40), at + 80)}…`;
        }
        return `${key}: ${preview(a, 120)} → ${preview(b, 120)}`;
      })
      .join('; ');
  }

  // --- lanes --------------------------------------------------------------------------------

  private async runReadBatch(inputs: FuzzInput[]): Promise<void> {
    if (inputs.length === 0) return;
    this.report.readBatches++;
    const before = await this.fingerprint();
    const queue = [...inputs];
    const workers = Array.from({ length: Math.min(this.options.concurrency ?? 8, queue.length) }, async () => {
      for (let input = queue.shift(); input; input = queue.shift()) await this.execute(input);
    });
    await Promise.all(workers);
    await settle();
    const changed = FuzzRunner.diff(before, await this.fingerprint());
    const errors = this.takeServerErrors();
    if (changed === null && errors.length === 0) return;
    // Something that must not change the state did, or the server logged an error: find which
    // input, one at a time.
    this.report.replayedBatches++;
    let named = false;
    for (const input of inputs) {
      const again = await this.fingerprint();
      await this.execute(input, true);
      await settle();
      const diff = FuzzRunner.diff(again, await this.fingerprint());
      if (diff !== null) {
        named = true;
        this.fail(input, 'state changed by a read-only input', diff);
      }
      if (this.reportServerErrors(input)) named = true;
    }
    if (!named) {
      const what = [changed === null ? '' : `state changed: ${changed}`, ...errors.map(FuzzRunner.describeError)].filter((x) => x !== '').join('; ');
      this.fail(inputs[0]!, `anomaly during a batch of ${inputs.length} read-only inputs, not reproduced one by one`, what);
    }
  }

  private errorsSeen = 0;

  private takeServerErrors(): ServerError[] {
    const errors = this.target.serverErrors.slice(this.errorsSeen);
    this.errorsSeen = this.target.serverErrors.length;
    return errors;
  }

  private static describeError(error: ServerError): string {
    return `${error.msg}${error.detail ? ` (${error.detail})` : ''}`;
  }

  /** Fails the input for every error the server logged since the last look; true if there were any. */
  private reportServerErrors(input: FuzzInput | null, when = ''): boolean {
    const errors = this.takeServerErrors();
    for (const error of errors) this.fail(input, `server logged an error${when}`, FuzzRunner.describeError(error));
    return errors.length > 0;
  }

  private async runChecked(input: FuzzInput): Promise<void> {
    await this.prepare(input);
    const before = await this.fingerprint();
    const outcome = await this.execute(input);
    await settle();
    this.reportServerErrors(input);
    if (!outcome?.refused) return;
    this.report.stateChecks++;
    const diff = FuzzRunner.diff(before, await this.fingerprint());
    if (diff !== null) this.fail(input, `state changed after a refused input (${outcome.answer})`, diff);
  }

  /** Connects what an input needs before its window opens. */
  private async prepare(input: FuzzInput): Promise<void> {
    if (input.kind === 'emit' && input.via === 'device' && input.participantId) await this.deviceSocket(input.participantId);
  }

  private async execute(input: FuzzInput, replay = false): Promise<Outcome | null> {
    if (!replay) this.tally(input);
    this.inFlight.add(input);
    this.lastInput = input;
    try {
      let outcome: Outcome | null;
      switch (input.kind) {
        case 'http':
          outcome = await this.executeHttp(input);
          break;
        case 'emit':
          outcome = await this.executeEmit(input);
          break;
        case 'handshake':
          outcome = await this.executeHandshake(input);
          break;
        case 'rawHttp':
          outcome = await this.executeRawHttp(input);
          break;
        case 'rawWs':
          outcome = await this.executeRawWs(input);
          break;
      }
      if (outcome && !replay) {
        this.count(outcome.answer);
        const stats = this.report.surfaces[input.surface]!;
        if (outcome.refused) stats.refused++;
        else if (input.cls === 'valid' && outcome.accepted) stats.validAccepted++;
        stats.maxMs = Math.max(stats.maxMs, outcome.ms);
        stats.totalMs += outcome.ms;
      }
      return outcome;
    } catch (cause) {
      this.fail(input, 'harness error', cause instanceof Error ? (cause.stack ?? cause.message) : String(cause));
      return null;
    } finally {
      this.inFlight.delete(input);
    }
  }

  private tally(input: FuzzInput): void {
    this.report.inputs++;
    const stats = (this.report.surfaces[input.surface] ??= { inputs: 0, valid: 0, mutated: 0, junk: 0, refused: 0, validAccepted: 0, maxMs: 0, totalMs: 0 });
    stats.inputs++;
    stats[input.cls]++;
  }

  // --- HTTP ---------------------------------------------------------------------------------

  private async executeHttp(input: FuzzInput & { kind: 'http' }): Promise<Outcome> {
    const { wire } = input;
    let answer: HttpAnswer;
    try {
      answer = await sendHttp(this.target.server.port, this.agent, wire);
    } catch (cause) {
      const error = cause as NodeJS.ErrnoException & { notSent?: boolean };
      if (error.notSent) return { refused: false, answer: 'not sent (the client refused it)', ms: 0 };
      // A body far past the route's limit may be cut off once the server has answered 413.
      const oversize = (wire.body?.length ?? 0) > 16 * 1024 && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      if (oversize) return { refused: true, answer: 'connection closed (oversize body)', ms: 0 };
      this.fail(input, 'no answer', `${error.code ?? ''} ${error.message}`);
      return { refused: true, answer: 'no answer', ms: 0 };
    }
    const problem = this.checkHttp(input, answer);
    if (problem) this.fail(input, problem.oracle, problem.detail);
    const code = answer.status >= 400 ? problem?.code ?? codeOf(answer.body) : undefined;
    const contentType = String(answer.headers['content-type'] ?? '').split(';')[0]!;
    const how =
      wire.method === 'HEAD' ? ' (HEAD)' : wire.path.toLowerCase().startsWith('/socket.io') ? ' (engine.io)' : /json/.test(contentType) ? '' : ` (${contentType || 'no body'})`;
    const label = `HTTP ${answer.status}${code ? ` ${code}` : ''}${how}`;
    if (answer.status >= 200 && answer.status < 300 && input.onOk) {
      const body = parseJson(answer.body) as { data?: unknown } | null;
      if (body && typeof body === 'object') input.onOk(body.data, input);
    }
    // (304: a conditional GET answered "not modified" after it was handled, a fix taken included.)
    return { refused: answer.status >= 300 && answer.status !== 304, accepted: answer.status < 300, answer: label, ms: answer.ms };
  }

  private checkHttp(input: FuzzInput & { kind: 'http' }, answer: HttpAnswer): { oracle: string; detail: string; code?: string } | null {
    const { wire } = input;
    const path = wire.path.toLowerCase();
    const bodyText = answer.body.toString('utf8');
    const snippet = bodyText.slice(0, 300);
    if (answer.status >= 500) {
      const code = codeOf(answer.body);
      if (!(answer.status === 507 && code === ErrorCodes.CAPACITY_REACHED)) return { oracle: `HTTP ${answer.status}`, detail: snippet, ...(code ? { code } : {}) };
    }
    if (path.startsWith('/socket.io')) return null; // engine.io's own answers (not the API's envelope)
    const contentType = String(answer.headers['content-type'] ?? '');
    const isJson = /^application\/json/.test(contentType);
    const ok = answer.status >= 200 && answer.status < 300;
    if (ok && /^\/metrics\/?(\?|$)/.test(path) && !FuzzRunner.organiserAuthorized(wire)) {
      return { oracle: `/metrics answered ${answer.status} without the organiser token`, detail: snippet };
    }
    // HEAD has no body; 304 answers a conditional request (If-None-Match) and has none by definition.
    if (wire.method === 'HEAD' || answer.status === 304) return null;
    // Node answers an Expect header other than 100-continue itself (417, no body), before Express.
    const expect = wire.headers.find(([k]) => k.toLowerCase() === 'expect')?.[1];
    if (answer.status === 417 && expect !== undefined && expect.toLowerCase() !== '100-continue') return null;
    // Express's Router answers OPTIONS itself with the allowed methods (text/plain) for the routes
    // of the ingest router: harmless, and not the API's envelope.
    if (wire.method === 'OPTIONS' && answer.status === 200 && /^text\/plain/.test(contentType) && answer.headers['allow'] !== undefined) return null;
    // The routes: /api/…, /healthz, /ingest/osmand and /ingest/owntracks (Express matches paths
    // whatever their case, and with a trailing slash). Any other path falls through to the static
    // pages: no 5xx, and a JSON answer there is the envelope.
    const isApi = /^\/api([/?]|$)/.test(path) || /^\/(healthz|ingest\/osmand|ingest\/owntracks)\/?(\?|$)/.test(path);
    if (!isApi && !isJson) return null;
    if (!isJson) return { oracle: 'answer is not JSON', detail: `${answer.status} ${contentType}: ${snippet}` };
    const body = parseJson(answer.body);
    if (body === undefined) return { oracle: 'answer is not JSON', detail: `${answer.status}: ${snippet}` };
    if (ok) {
      if (path.startsWith('/ingest/owntracks')) {
        return Array.isArray(body) ? null : { oracle: 'OwnTracks success is not an array', detail: snippet };
      }
      if (typeof body !== 'object' || body === null || (body as { ok?: unknown }).ok !== true || !('data' in body)) {
        return { oracle: '2xx without { ok: true, data }', detail: `${answer.status}: ${snippet}` };
      }
      return this.checkAccess(input, answer.status, (body as { data: unknown }).data);
    }
    if (typeof body !== 'object' || body === null) return { oracle: 'error without an envelope', detail: `${answer.status}: ${snippet}` };
    const envelope = body as { ok?: unknown; code?: unknown; message?: unknown };
    if (envelope.ok !== false) return { oracle: 'error without ok: false', detail: `${answer.status}: ${snippet}` };
    if (!isDocumented(envelope.code)) return { oracle: 'undocumented code', detail: `${answer.status}: ${snippet}` };
    const code = envelope.code;
    if (httpStatusOf[code] !== answer.status) return { oracle: `status ${answer.status} for ${code} (documented: ${httpStatusOf[code]})`, detail: snippet, code };
    if (typeof envelope.message !== 'string') return { oracle: 'error without a message', detail: snippet, code };
    if (answer.status === 429 && answer.headers['retry-after'] === undefined) return { oracle: '429 without Retry-After', detail: snippet, code };
    if (path.startsWith('/ingest/owntracks') && answer.status === 401 && !/^Basic/i.test(String(answer.headers['www-authenticate'] ?? ''))) {
      return { oracle: 'OwnTracks 401 without WWW-Authenticate: Basic', detail: snippet, code };
    }
    return null;
  }

  private static organiserAuthorized(wire: WireHttp): boolean {
    const authorization = wire.headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? '';
    return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] === TEST_ORGANISER_TOKEN;
  }

  /** A 2xx from a route that needs a credential the request did not carry. */
  private checkAccess(input: FuzzInput & { kind: 'http' }, status: number, data: unknown): { oracle: string; detail: string } | null {
    const path = input.wire.path.toLowerCase();
    const authorization = input.wire.headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? '';
    const bearerToken = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    const isOrganiser = bearerToken === TEST_ORGANISER_TOKEN;
    if (path.startsWith('/api/organiser') && !isOrganiser) return { oracle: `organiser route answered ${status} without the organiser token`, detail: preview(data) };
    if (path.startsWith('/api/device') && (bearerToken === undefined || this.service.authenticateDevice(bearerToken) === null)) {
      return { oracle: `device route answered ${status} without a valid device token`, detail: preview(data) };
    }
    if (/^\/api\/races\/?(\?|$)/.test(path) && !isOrganiser) {
      const races = (data as { races?: Array<{ isPrivate?: unknown }> } | null)?.races;
      if (Array.isArray(races) && races.some((r) => r.isPrivate === true)) return { oracle: 'a private race listed to a spectator', detail: preview(data) };
    }
    return null;
  }

  // --- Socket.IO ----------------------------------------------------------------------------

  private async ensureSpectators(): Promise<void> {
    for (const which of ['anon', 'organiser'] as const) {
      const current = this.spectators[which];
      if (current?.connected) continue;
      const socket = connectSocket(this.target.server.url, '/', which === 'organiser' ? { organiserToken: TEST_ORGANISER_TOKEN } : {});
      const result = await whenConnected(socket);
      if (!result.ok) throw new Error(`the ${which} spectator could not connect: ${String(result.code)} ${result.message}`);
      socket.on('disconnect', (reason: string) => {
        if (!this.closing.has(socket)) this.fail(this.lastInput, `${which} spectator connection closed by the server`, reason);
      });
      // What the server sends must decode (shared/wire.ts), whatever state the fuzz left a race in.
      for (const event of ['race:delta', 'follow:delta']) {
        socket.on(event, (raceId: unknown, bytes: unknown) => {
          this.report.deltasDecoded++;
          try {
            if (typeof raceId !== 'string' || !(bytes instanceof Uint8Array)) throw new Error(`payload ${preview([raceId, bytes])}`);
            decodeDelta(bytes);
          } catch (cause) {
            this.fail(this.lastInput, `undecodable ${event}`, (cause as Error).message);
          }
        });
      }
      this.spectators[which] = socket;
    }
  }

  /** A connected socket for the participant's current token, or null when they have none. */
  private async deviceSocket(participantId: string): Promise<AnySocket | null> {
    const token = this.service.deviceCredentials().find((d) => d.participantId === participantId)?.deviceToken ?? null;
    const existing = this.devices.get(participantId);
    if (existing && existing.token === token && existing.socket.connected) return existing.socket;
    if (existing) {
      this.closing.add(existing.socket);
      existing.socket.disconnect();
      this.devices.delete(participantId);
    }
    if (token === null) return null;
    const socket = connectSocket(this.target.server.url, '/device', { deviceToken: token });
    const result = await whenConnected(socket);
    if (!result.ok) return null;
    this.devices.set(participantId, { socket, token });
    return socket;
  }

  /** Whether the server answers this event with an acknowledgement (known event, one payload, an ack asked for). */
  private static answered(input: EmitDraft): boolean {
    const known = input.via === 'device' ? DEVICE_EVENTS : SPECTATOR_EVENTS;
    return input.ack && input.args.length === 1 && known.includes(input.event);
  }

  private static messageBytes(args: unknown[]): number {
    let bytes = 0;
    const walk = (value: unknown, depth: number): void => {
      if (value instanceof Uint8Array) bytes += value.byteLength;
      else if (Array.isArray(value) && depth < 50) value.forEach((v) => walk(v, depth + 1));
      else if (typeof value === 'object' && value !== null && depth < 50) Object.values(value).forEach((v) => walk(v, depth + 1));
    };
    args.forEach((a) => walk(a, 0));
    try {
      bytes += Buffer.byteLength(JSON.stringify(args) ?? '');
    } catch {
      bytes += 1_000_000;
    }
    return bytes;
  }

  private static looksLikePlaceholder(args: unknown[]): boolean {
    return /"_placeholder"/.test(JSON.stringify(args, (_k, v: unknown) => (v instanceof Uint8Array ? null : v)) ?? '');
  }

  private async executeEmit(input: FuzzInput & { kind: 'emit' }): Promise<Outcome> {
    const throwaway = FuzzRunner.messageBytes(input.args) > SOCKET_MESSAGE_LIMIT || FuzzRunner.looksLikePlaceholder(input.args);
    let socket: AnySocket | null;
    if (throwaway) {
      // A message the server may close the connection for (over 64 KB, or a forged binary
      // placeholder): sent on a connection of its own.
      const auth = input.via === 'device' ? { deviceToken: this.world.people.find((p) => p.participantId === input.participantId)?.token ?? '' } : input.via === 'organiser' ? { organiserToken: TEST_ORGANISER_TOKEN } : {};
      socket = connectSocket(this.target.server.url, input.via === 'device' ? '/device' : '/', auth);
      if (!(await whenConnected(socket)).ok) {
        socket.disconnect();
        return { refused: false, answer: 'skipped (no connection for a throwaway message)', ms: 0 };
      }
    } else if (input.via === 'device') {
      socket = input.participantId ? await this.deviceSocket(input.participantId) : null;
      if (!socket) return { refused: false, answer: 'skipped (the device has no token now)', ms: 0 };
    } else {
      socket = this.spectators[input.via];
      if (!socket?.connected) return { refused: false, answer: 'skipped (spectator not connected)', ms: 0 };
    }
    const answered = FuzzRunner.answered(input);
    try {
      const outcome = await emitAndWait(socket, input.event, input.args, answered);
      if (outcome.kind === 'ack') {
        const checked = checkAck(outcome.ack);
        if (checked.problem) this.fail(input, 'acknowledgement', checked.problem);
        if (checked.ok && input.onOk) input.onOk(checked.data);
        return { refused: !checked.ok, accepted: checked.ok, answer: checked.ok ? 'ack ok' : `ack ${checked.code ?? 'malformed'}`, ms: outcome.ms };
      }
      if (outcome.kind === 'closed') {
        if (throwaway) return { refused: true, answer: 'closed (message over 64 KB or forged binary)', ms: 0 };
        return this.explainClosed(input, outcome.reason);
      }
      if (outcome.kind === 'timeout') {
        this.fail(input, 'no acknowledgement', `no answer within ${ACK_TIMEOUT_MS} ms`);
        return { refused: true, answer: 'no ack', ms: ACK_TIMEOUT_MS };
      }
      if (outcome.kind === 'crashed') return { refused: true, answer: 'no ack (the process crashed)', ms: 0 };
      // Sent without an answer to wait for: a request on the same connection that is answered
      // comes back after it was handled (one connection is handled in order).
      const barrier = input.via === 'device' ? await emitAndWait(socket, 'position', ['barrier'], true) : await emitAndWait(socket, 'race:leave', [{ raceId: 'fuzz-barrier' }], true);
      if (barrier.kind === 'closed') {
        if (throwaway) return { refused: true, answer: 'closed (message over 64 KB or forged binary)', ms: 0 };
        return this.explainClosed(input, barrier.reason);
      }
      if (barrier.kind === 'crashed') return { refused: true, answer: 'no ack (the process crashed)', ms: 0 };
      if (barrier.kind !== 'ack') {
        this.fail(input, 'no acknowledgement', 'the barrier after it was not answered');
        return { refused: true, answer: 'no ack', ms: 0 };
      }
      const checked = checkAck(barrier.ack);
      if (checked.problem) this.fail(input, 'acknowledgement (barrier)', checked.problem);
      // Ignored by the server (an unknown event, a join without an answer): nothing may change.
      // Anything else sent without an ack (a fix, an SOS) may have been taken: not checked.
      const ignored = !SPECTATOR_EVENTS.includes(input.event) && !DEVICE_EVENTS.includes(input.event);
      const unanswerableJoin = input.via !== 'device' && (input.event === 'race:join' || input.event === 'follow:join');
      return { refused: ignored || unanswerableJoin, answer: 'sent without an ack', ms: 0 };
    } finally {
      if (throwaway) {
        socket.disconnect();
      }
    }
  }

  private explainClosed(input: FuzzInput & { kind: 'emit' }, reason: string): Outcome {
    if (input.via === 'device' && input.participantId) {
      const current = this.service.deviceCredentials().find((d) => d.participantId === input.participantId)?.deviceToken ?? null;
      if (current !== this.devices.get(input.participantId)?.token) return { refused: false, answer: 'closed (device token revoked or replaced)', ms: 0 };
    }
    this.fail(input, 'connection closed by the server after a message under 64 KB', reason);
    return { refused: true, answer: 'closed', ms: 0 };
  }

  private async executeHandshake(input: FuzzInput & { kind: 'handshake' }): Promise<Outcome> {
    const name = input.namespace === '/' ? 'organiserToken' : 'deviceToken';
    const credential = Object.prototype.hasOwnProperty.call(input.auth, name) ? input.auth[name] : undefined;
    const expected: 'connect' | ErrorCode =
      input.namespace === '/'
        ? credential === undefined || credential === TEST_ORGANISER_TOKEN
          ? 'connect'
          : ErrorCodes.UNAUTHORIZED
        : this.service.authenticateDevice(credential) !== null
          ? 'connect'
          : ErrorCodes.UNKNOWN_DEVICE;
    const started = performance.now();
    const socket = connectSocket(this.target.server.url, input.namespace, input.auth);
    try {
      const result = await whenConnected(socket);
      const ms = performance.now() - started;
      if (result.ok) {
        if (expected !== 'connect') this.fail(input, 'handshake accepted a wrong credential', `expected ${expected}`);
        return { refused: false, accepted: true, answer: 'handshake connected', ms };
      }
      if (result.code === 'closed') {
        // Documented for a message over 64 KB; the handshake's auth travels in one.
        if (FuzzRunner.messageBytes([input.auth]) <= SOCKET_MESSAGE_LIMIT) this.fail(input, 'connection closed at the handshake', result.message);
        return { refused: true, answer: 'handshake closed (over 64 KB)', ms };
      }
      if (result.code === 'timeout') this.fail(input, 'no answer to the handshake', result.message);
      else if (!isDocumented(result.code)) this.fail(input, 'handshake refused with an undocumented code', `${preview(result.code)}: ${result.message}`);
      else if (result.code !== expected && result.code !== ErrorCodes.RATE_LIMITED) this.fail(input, `handshake refused with ${result.code}`, `expected ${expected}`);
      return { refused: true, answer: `handshake refused ${String(result.code)}`, ms };
    } finally {
      socket.disconnect();
    }
  }

  private async executeRawHttp(input: FuzzInput & { kind: 'rawHttp' }): Promise<Outcome> {
    const started = performance.now();
    const { status, text } = await sendRawHttp(this.target.server.port, input.bytes);
    if (status !== null && status >= 500) this.fail(input, `HTTP ${status}`, text.slice(0, 300));
    // (A corrupted request can still be a valid one, a fix taken: only refusals are checked.)
    return { refused: status === null || status >= 300, accepted: status !== null && status < 300, answer: status === null ? 'raw: closed without an answer' : `raw: HTTP ${status}`, ms: performance.now() - started };
  }

  private executeRawWs(input: FuzzInput & { kind: 'rawWs' }): Promise<Outcome> {
    const started = performance.now();
    return new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${this.target.server.port}/socket.io/?EIO=4&transport=websocket`);
      let closed = false;
      const finish = (answer: string) => {
        if (closed) return;
        closed = true;
        clearTimeout(timer);
        ws.terminate();
        resolve({ refused: true, answer, ms: performance.now() - started });
      };
      const timer = setTimeout(() => finish('raw frames: no answer to the barrier'), 3000);
      ws.on('error', () => finish('raw frames: connection error'));
      ws.on('close', () => finish('raw frames: closed by the server'));
      ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
        if (isBinary) return;
        const text = data.toString();
        if (text.startsWith('0')) {
          for (const frame of input.frames) ws.send(frame);
          // The barrier: answered once every frame before it was handled.
          ws.send('4299999["race:leave",{"raceId":"fuzz-barrier"}]');
          return;
        }
        if (text === '2') ws.send('3');
        const ack = /^43(?:\/[^,]*,)?(\d+)(\[.*)$/s.exec(text);
        if (ack) {
          const [, id, payload] = ack;
          const parsed = parseJson(Buffer.from(payload!)) as unknown[] | undefined;
          const checked = checkAck(Array.isArray(parsed) ? parsed[0] : undefined);
          if (checked.problem) this.fail(input, 'acknowledgement (raw frame)', checked.problem);
          if (id === '99999') finish('raw frames: answered');
          else if (checked.ok) this.report.answers['raw frames: ack ok'] = (this.report.answers['raw frames: ack ok'] ?? 0) + 1;
        }
      });
    });
  }

  // --- liveness -----------------------------------------------------------------------------

  private async checkAlive(input: FuzzInput | null): Promise<void> {
    this.report.healthChecks++;
    try {
      const answer = await sendHttp(this.target.server.port, this.agent, { method: 'GET', path: '/healthz', headers: [], body: null });
      const body = parseJson(answer.body) as { ok?: unknown } | undefined;
      if (answer.status !== 200 || body?.ok !== true) this.fail(input ?? this.lastInput, '/healthz', `${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`);
    } catch (cause) {
      this.fail(input ?? this.lastInput, '/healthz did not answer', (cause as Error).message);
    }
    if (Object.getOwnPropertyNames(Object.prototype).join(',') !== this.prototypeKeys || Object.getOwnPropertyNames(Array.prototype).join(',') !== this.arrayKeys) {
      this.fail(this.lastInput, 'prototype polluted', Object.getOwnPropertyNames(Object.prototype).join(','));
    }
    // (for…in sees inherited enumerable keys: a polluted prototype shows here.)
    for (const key in {}) this.fail(this.lastInput, 'prototype polluted', `Object.prototype.${key}`);
  }

  private async finalChecks(): Promise<void> {
    await this.checkAlive(null);
    // A new spectator still connects and joins a public race.
    const socket = connectSocket(this.target.server.url, '/', {});
    try {
      const connected = await whenConnected(socket);
      if (!connected.ok) {
        this.fail(null, 'a new spectator cannot connect after the run', `${String(connected.code)} ${connected.message}`);
        return;
      }
      const race = this.service.listRaces({ includePrivate: false })[0];
      if (race) {
        const outcome = await emitAndWait(socket, 'race:join', [{ raceId: race.raceId }], true);
        if (outcome.kind !== 'ack' || !checkAck(outcome.ack).ok) this.fail(null, 'a new spectator cannot join a public race after the run', preview(outcome));
      }
    } finally {
      socket.disconnect();
    }
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function codeOf(body: Buffer): string | undefined {
  const parsed = parseJson(body) as { code?: unknown } | undefined;
  return typeof parsed === 'object' && parsed !== null && typeof parsed.code === 'string' ? parsed.code : undefined;
}

/** Two turns of the event loop: what an answered request set off has happened. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

/** Runs the fuzz against a started target. The target's state carries the run's changes after it. */
export async function runFuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  return new FuzzRunner(target, options).run();
}

// ---------------------------------------------------------------------------------------------
// The figures.

export function formatReport(report: FuzzReport): string {
  const lines: string[] = [];
  const seconds = report.durationMs / 1000;
  lines.push(
    `fuzz seed ${report.seed}: ${report.inputs} inputs in ${seconds.toFixed(1)} s (${Math.round(report.inputs / Math.max(seconds, 0.001))}/s; ${(report.cpuMs / 1000).toFixed(1)} s of CPU), ${report.failureCount} failure${report.failureCount === 1 ? '' : 's'}`,
  );
  lines.push(
    `state compared around ${report.stateChecks} refused inputs and ${report.readBatches} read-only batches (${report.replayedBatches} replayed); /healthz checked ${report.healthChecks} times; ${report.deltasDecoded} deltas decoded`,
  );
  lines.push('');
  const surfaceWidth = Math.max(...Object.keys(report.surfaces).map((s) => s.length), 7);
  const num = (n: number, w = 7) => String(n).padStart(w);
  lines.push('surface: inputs by class; "valid ok" the valid ones accepted; "refused" every input answered with a refusal (state compared); slowest answer');
  lines.push(
    `${'surface'.padEnd(surfaceWidth)} ${'inputs'.padStart(7)} ${'valid'.padStart(7)} ${'mutated'.padStart(7)} ${'junk'.padStart(7)} ${'valid ok'.padStart(8)} ${'refused'.padStart(7)} ${'max ms'.padStart(7)}`,
  );
  const totals = { inputs: 0, valid: 0, mutated: 0, junk: 0, validAccepted: 0, refused: 0 };
  for (const [surface, s] of Object.entries(report.surfaces).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(
      `${surface.padEnd(surfaceWidth)} ${num(s.inputs)} ${num(s.valid)} ${num(s.mutated)} ${num(s.junk)} ${num(s.validAccepted, 8)} ${num(s.refused)} ${num(Math.round(s.maxMs))}`,
    );
    totals.inputs += s.inputs;
    totals.valid += s.valid;
    totals.mutated += s.mutated;
    totals.junk += s.junk;
    totals.validAccepted += s.validAccepted;
    totals.refused += s.refused;
  }
  lines.push(
    `${'total'.padEnd(surfaceWidth)} ${num(totals.inputs)} ${num(totals.valid)} ${num(totals.mutated)} ${num(totals.junk)} ${num(totals.validAccepted, 8)} ${num(totals.refused)}`,
  );
  lines.push('');
  const answerWidth = Math.max(...Object.keys(report.answers).map((a) => a.length), 6);
  lines.push(`${'answer'.padEnd(answerWidth)} ${'count'.padStart(7)}`);
  for (const [answer, n] of Object.entries(report.answers).sort(([, a], [, b]) => b - a)) lines.push(`${answer.padEnd(answerWidth)} ${num(n)}`);
  if (report.failures.length > 0) {
    lines.push('');
    lines.push(`failures (${report.failureCount}, the first of each kind shown; replay with seed ${report.seed}):`);
    for (const f of report.failures) {
      lines.push(`  #${f.index} [${f.surface}, ${f.cls}] ${f.oracle}${f.alike > 1 ? ` (${f.alike} alike)` : ''}: ${f.detail}`);
      lines.push(`    input: ${f.input}`);
    }
  }
  return lines.join('\n');
}
