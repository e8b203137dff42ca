// Binary encoding of a race delta. One delta per race per tick carries every runner that moved;
// positions are course-relative, so a runner costs 6 bytes and the viewer turns the distance back
// into a point with the course geometry it already holds.
//
// Layout (big-endian, as DataView defaults to):
//   u8   format version (1)
//   u32  sequence number of this delta within its race
//   f64  tick time, ms since the Unix epoch
//   u16  number of entries
//   then per entry (6 bytes):
//     u16  runner index (RunnerSnapshot.runnerIndex)
//     u32  status * 2^24 + distance along the race in decimetres
import { RunnerStatus, type RunnerStatusCode } from './protocol.ts';

export const DELTA_FORMAT_VERSION = 1;
export const DELTA_HEADER_BYTES = 15;
export const DELTA_ENTRY_BYTES = 6;
/** 2^24 decimetres: the longest distance along a race the format can carry (1,677.7 km). */
export const MAX_WIRE_DISTANCE_M = (2 ** 24 - 1) / 10;
export const MAX_ENTRIES_PER_DELTA = 0xffff;

export interface DeltaEntry {
  runnerIndex: number;
  distanceAlongRaceM: number;
  status: RunnerStatusCode;
}

export interface RaceDelta {
  seq: number;
  tickAtMs: number;
  entries: DeltaEntry[];
}

const knownStatuses = new Set<number>(Object.values(RunnerStatus));

export function encodeDelta(delta: RaceDelta): Uint8Array {
  if (delta.entries.length > MAX_ENTRIES_PER_DELTA) {
    throw new RangeError(`a delta holds at most ${MAX_ENTRIES_PER_DELTA} entries`);
  }
  const bytes = new Uint8Array(DELTA_HEADER_BYTES + DELTA_ENTRY_BYTES * delta.entries.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, DELTA_FORMAT_VERSION);
  view.setUint32(1, delta.seq);
  view.setFloat64(5, delta.tickAtMs);
  view.setUint16(13, delta.entries.length);
  let offset = DELTA_HEADER_BYTES;
  for (const entry of delta.entries) {
    if (entry.runnerIndex < 0 || entry.runnerIndex > 0xffff) {
      throw new RangeError(`runner index ${entry.runnerIndex} does not fit the wire format`);
    }
    const distanceDm = Math.round(Math.min(Math.max(entry.distanceAlongRaceM, 0), MAX_WIRE_DISTANCE_M) * 10);
    view.setUint16(offset, entry.runnerIndex);
    view.setUint32(offset + 2, entry.status * 2 ** 24 + distanceDm);
    offset += DELTA_ENTRY_BYTES;
  }
  return bytes;
}

/** Decodes a delta; throws a RangeError on anything that is not a well-formed version-1 delta. */
export function decodeDelta(input: ArrayBuffer | ArrayBufferView): RaceDelta {
  const view =
    input instanceof ArrayBuffer
      ? new DataView(input)
      : new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (view.byteLength < DELTA_HEADER_BYTES) throw new RangeError('delta shorter than its header');
  const version = view.getUint8(0);
  if (version !== DELTA_FORMAT_VERSION) throw new RangeError(`unknown delta format ${version}`);
  const count = view.getUint16(13);
  if (view.byteLength !== DELTA_HEADER_BYTES + count * DELTA_ENTRY_BYTES) {
    throw new RangeError('delta length does not match its entry count');
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
  return { seq: view.getUint32(1), tickAtMs: view.getFloat64(5), entries };
}
