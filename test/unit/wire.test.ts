import { describe, expect, it } from 'vitest';
import { RunnerStatus } from '../../shared/protocol.ts';
import { DELTA_CROSSING_BYTES, DELTA_ENTRY_BYTES, DELTA_HEADER_BYTES, MAX_WIRE_DISTANCE_M, decodeDelta, encodeDelta } from '../../shared/wire.ts';
import { seededRandom } from '../../shared/random.ts';

describe('delta wire format', () => {
  it('round-trips entries to the decimetre', () => {
    const random = seededRandom(7);
    const entries = Array.from({ length: 500 }, (_, i) => ({
      runnerIndex: i,
      distanceAlongRaceM: Math.round(random.between(0, 42195) * 10) / 10,
      status: random.pick([RunnerStatus.notStarted, RunnerStatus.onCourse, RunnerStatus.offCourse, RunnerStatus.finished]),
    }));
    const crossings = [
      { runnerIndex: 3, pointIndex: 0, sinceStartMs: 1_234_500, sigmaMs: 1_200 },
      { runnerIndex: 499, pointIndex: 46, sinceStartMs: null, sigmaMs: 0 },
    ];
    const delta = { seq: 4_000_000_000, tickAtMs: 1_795_000_000_123, entries, crossings };
    expect(decodeDelta(encodeDelta(delta))).toEqual(delta);
  });

  it('costs 6 bytes per runner position and 10 per crossing', () => {
    const bytes = encodeDelta({
      seq: 1,
      tickAtMs: 0,
      entries: [
        { runnerIndex: 3, distanceAlongRaceM: 42195, status: RunnerStatus.finished },
        { runnerIndex: 65535, distanceAlongRaceM: 0.1, status: RunnerStatus.onCourse },
      ],
      crossings: [{ runnerIndex: 3, pointIndex: 8, sinceStartMs: 9_000_000, sigmaMs: 800 }],
    });
    expect(DELTA_ENTRY_BYTES).toBe(6);
    expect(DELTA_CROSSING_BYTES).toBe(10);
    expect(bytes.byteLength).toBe(DELTA_HEADER_BYTES + 2 * 6 + 2 + 10);
  });

  it('still reads version 1 (no crossings section)', () => {
    const v2 = encodeDelta({ seq: 3, tickAtMs: 7, entries: [{ runnerIndex: 1, distanceAlongRaceM: 12.3, status: 1 }], crossings: [] });
    const v1 = v2.slice(0, v2.length - 2);
    v1[0] = 1;
    expect(decodeDelta(v1)).toEqual({ seq: 3, tickAtMs: 7, entries: [{ runnerIndex: 1, distanceAlongRaceM: 12.3, status: 1 }], crossings: [] });
  });

  it('decodes from a Node Buffer at an offset (as socket.io-client delivers it)', () => {
    const encoded = encodeDelta({ seq: 9, tickAtMs: 5, entries: [{ runnerIndex: 1, distanceAlongRaceM: 12.3, status: 1 }], crossings: [] });
    const padded = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(encoded)]);
    expect(decodeDelta(padded.subarray(3)).entries).toEqual([{ runnerIndex: 1, distanceAlongRaceM: 12.3, status: 1 }]);
  });

  it('clamps distances to what the format can carry', () => {
    const decoded = decodeDelta(
      encodeDelta({ seq: 1, tickAtMs: 0, entries: [{ runnerIndex: 0, distanceAlongRaceM: 5_000_000, status: 1 }], crossings: [] }),
    );
    expect(decoded.entries[0]!.distanceAlongRaceM).toBeCloseTo(MAX_WIRE_DISTANCE_M, 1);
  });

  it('refuses truncated, foreign and inconsistent input', () => {
    const good = encodeDelta({ seq: 1, tickAtMs: 0, entries: [{ runnerIndex: 0, distanceAlongRaceM: 1, status: 1 }], crossings: [] });
    expect(() => decodeDelta(good.subarray(0, 10))).toThrow(RangeError);
    expect(() => decodeDelta(good.subarray(0, good.length - 1))).toThrow(/length/);
    const extra = new Uint8Array(good.length + 10);
    extra.set(good);
    expect(() => decodeDelta(extra)).toThrow(/length/);
    const wrongVersion = good.slice();
    wrongVersion[0] = 9;
    expect(() => decodeDelta(wrongVersion)).toThrow(/format/);
    const badStatus = good.slice();
    badStatus[DELTA_HEADER_BYTES + 2] = 200;
    expect(() => decodeDelta(badStatus)).toThrow(/status/);
    expect(() => encodeDelta({ seq: 1, tickAtMs: 0, entries: [{ runnerIndex: 70_000, distanceAlongRaceM: 1, status: 1 }], crossings: [] })).toThrow(
      RangeError,
    );
    expect(() => encodeDelta({ seq: 1, tickAtMs: 0, entries: [], crossings: [{ runnerIndex: 0, pointIndex: -1, sinceStartMs: 0, sigmaMs: 0 }] })).toThrow(
      RangeError,
    );
  });
});
