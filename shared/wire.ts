// Binary encoding of a race delta. One delta per race per tick carries every runner that moved
// and every timing point crossed since the last one; positions are course-relative, so a runner
// costs 6 bytes and the viewer turns the distance back into a point with the course geometry it
// already holds.
//
// Layout (big-endian, as DataView defaults to):
//   u8   format version (2)
//   u32  sequence number of this delta within its race
//   f64  tick time, ms since the Unix epoch
//   u16  number of entries
//   then per entry (6 bytes):
//     u16  runner index (RunnerSnapshot.runnerIndex)
//     u32  status * 2^24 + distance along the race in decimetres
//   u16  number of crossings
//   then per crossing (10 bytes):
//     u16  runner index
//     u16  timing point index (CourseGeometry.timingPoints)
//     u32  time since the race's start, deciseconds (0xFFFFFFFF: passed, time not known)
//     u16  its uncertainty (one standard deviation), deciseconds, at most 65,535
//
// Version 1 (no crossings section) is still read.
import { RunnerStatus, type RunnerStatusCode } from './protocol.ts';

export const DELTA_FORMAT_VERSION = 2;
export const DELTA_HEADER_BYTES = 15;
export const DELTA_ENTRY_BYTES = 6;
export const DELTA_CROSSING_BYTES = 10;
/** 2^24 decimetres: the longest distance along a race the format can carry (1,677.7 km). */
export const MAX_WIRE_DISTANCE_M = (2 ** 24 - 1) / 10;
export const MAX_ENTRIES_PER_DELTA = 0xffff;
const UNTIMED = 0xffffffff;

export interface DeltaEntry {
  runnerIndex: number;
  distanceAlongRaceM: number;
  status: RunnerStatusCode;
}

/** A runner crossed a timing point. */
export interface CrossingEntry {
  runnerIndex: number;
  pointIndex: number;
  /** Milliseconds since the race's start (a tenth of a second on the wire); null: time not known. */
  sinceStartMs: number | null;
  sigmaMs: number;
}

export interface RaceDelta {
  seq: number;
  tickAtMs: number;
  entries: DeltaEntry[];
  crossings: CrossingEntry[];
}

const knownStatuses = new Set<number>(Object.values(RunnerStatus));

export function encodeDelta(delta: RaceDelta): Uint8Array {
  if (delta.entries.length > MAX_ENTRIES_PER_DELTA || delta.crossings.length > MAX_ENTRIES_PER_DELTA) {
    throw new RangeError(`a delta holds at most ${MAX_ENTRIES_PER_DELTA} entries and as many crossings`);
  }
  const bytes = new Uint8Array(DELTA_HEADER_BYTES + DELTA_ENTRY_BYTES * delta.entries.length + 2 + DELTA_CROSSING_BYTES * delta.crossings.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, DELTA_FORMAT_VERSION);
  view.setUint32(1, delta.seq);
  view.setFloat64(5, delta.tickAtMs);
  view.setUint16(13, delta.entries.length);
  let offset = DELTA_HEADER_BYTES;
  for (const entry of delta.entries) {
    checkIndex(entry.runnerIndex, 'runner index');
    const distanceDm = Math.round(Math.min(Math.max(entry.distanceAlongRaceM, 0), MAX_WIRE_DISTANCE_M) * 10);
    view.setUint16(offset, entry.runnerIndex);
    view.setUint32(offset + 2, entry.status * 2 ** 24 + distanceDm);
    offset += DELTA_ENTRY_BYTES;
  }
  view.setUint16(offset, delta.crossings.length);
  offset += 2;
  for (const c of delta.crossings) {
    checkIndex(c.runnerIndex, 'runner index');
    checkIndex(c.pointIndex, 'timing point index');
    view.setUint16(offset, c.runnerIndex);
    view.setUint16(offset + 2, c.pointIndex);
    view.setUint32(offset + 4, c.sinceStartMs === null ? UNTIMED : Math.min(UNTIMED - 1, Math.max(0, Math.round(c.sinceStartMs / 100))));
    view.setUint16(offset + 8, Math.min(0xffff, Math.max(0, Math.round(c.sigmaMs / 100))));
    offset += DELTA_CROSSING_BYTES;
  }
  return bytes;
}

function checkIndex(index: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff) throw new RangeError(`${what} ${index} does not fit the wire format`);
}

/** Decodes a delta; throws a RangeError on anything that is not a well-formed version-1 or -2 delta. */
export function decodeDelta(input: ArrayBuffer | ArrayBufferView): RaceDelta {
  const view =
    input instanceof ArrayBuffer
      ? new DataView(input)
      : new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (view.byteLength < DELTA_HEADER_BYTES) throw new RangeError('delta shorter than its header');
  const version = view.getUint8(0);
  if (version !== 1 && version !== 2) throw new RangeError(`unknown delta format ${version}`);
  const count = view.getUint16(13);
  const entriesEnd = DELTA_HEADER_BYTES + count * DELTA_ENTRY_BYTES;
  if (version === 1 && view.byteLength !== entriesEnd) throw new RangeError('delta length does not match its entry count');
  if (version === 2 && (view.byteLength < entriesEnd + 2 || view.byteLength !== entriesEnd + 2 + view.getUint16(entriesEnd) * DELTA_CROSSING_BYTES)) {
    throw new RangeError('delta length does not match its entry and crossing counts');
  }
  const entries: DeltaEntry[] = [];
  let offset = DELTA_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const packed = view.getUint32(offset + 2);
    const status = Math.floor(packed / 2 ** 24);
    if (!knownStatuses.has(status)) throw new RangeError(`unknown runner status ${status}`);
    entries.push({
      runnerIndex: view.getUint16(offset),
      distanceAlongRaceM: (packed % 2 ** 24) / 10,
      status: status as RunnerStatusCode,
    });
    offset += DELTA_ENTRY_BYTES;
  }
  const crossings: CrossingEntry[] = [];
  if (version === 2) {
    const crossingCount = view.getUint16(offset);
    offset += 2;
    for (let i = 0; i < crossingCount; i++) {
      const ds = view.getUint32(offset + 4);
      crossings.push({
        runnerIndex: view.getUint16(offset),
        pointIndex: view.getUint16(offset + 2),
        sinceStartMs: ds === UNTIMED ? null : ds * 100,
        sigmaMs: view.getUint16(offset + 8) * 100,
      });
      offset += DELTA_CROSSING_BYTES;
    }
  }
  return { seq: view.getUint32(1), tickAtMs: view.getFloat64(5), entries, crossings };
}
