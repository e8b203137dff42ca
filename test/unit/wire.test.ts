import { describe, expect, it } from 'vitest';
import { RunnerStatus } from '../../shared/protocol.ts';
import { DELTA_ENTRY_BYTES, DELTA_HEADER_BYTES, MAX_WIRE_DISTANCE_M, decodeDelta, encodeDelta } from '../../shared/wire.ts';
import { seededRandom } from '../../simulations/random.ts';

describe('delta wire format', () => {
  it('round-trips entries to the decimetre', () => {
    const random = seededRandom(7);
    const entries = Array.from({ length: 500 }, (_, i) => ({
      runnerIndex: i,
      distanceAlongRaceM: Math.round(random.between(0, 42195) * 10) / 10,
      status: random.pick([RunnerStatus.notStarted, RunnerStatus.onCourse, RunnerStatus.offCourse, RunnerStatus.finished]),
    }));
    const delta = { seq: 4_000_000_000, tickAtMs: 1_795_000_000_123, entries };
    expect(decodeDelta(encodeDelta(delta))).toEqual(delta);
  });

  it('costs 6 bytes per runner position', () => {
    const bytes = encodeDelta({
      seq: 1,
      tickAtMs: 0,
      entries: [
        { runnerIndex: 3, distanceAlongRaceM: 42195, status: RunnerStatus.finished },
        { runnerIndex: 65535, distanceAlongRaceM: 0.1, status: RunnerStatus.onCourse },
      ],
    });
    expect(DELTA_ENTRY_BYTES).toBe(6);
    expect(bytes.byteLength).toBe(DELTA_HEADER_BYTES + 2 * 6);
  });

  it('decodes from a Node Buffer at an offset (as socket.io-client delivers it)', () => {
    const encoded = encodeDelta({ seq: 9, tickAtMs: 5, entries: [{ runnerIndex: 1, distanceAlongRaceM: 12.3, status: 1 }] });
    const padded = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(encoded)]);
    expect(decodeDelta(padded.subarray(3)).entries).toEqual([{ runnerIndex: 1, distanceAlongRaceM: 12.3, status: 1 }]);
  });

  it('clamps distances to what the format can carry', () => {
    const decoded = decodeDelta(
      encodeDelta({ seq: 1, tickAtMs: 0, entries: [{ runnerIndex: 0, distanceAlongRaceM: 5_000_000, status: 1 }] }),
    );
    expect(decoded.entries[0]!.distanceAlongRaceM).toBeCloseTo(MAX_WIRE_DISTANCE_M, 1);
  });

  it('refuses truncated, foreign and inconsistent input', () => {
    const good = encodeDelta({ seq: 1, tickAtMs: 0, entries: [{ runnerIndex: 0, distanceAlongRaceM: 1, status: 1 }] });
    expect(() => decodeDelta(good.subarray(0, 10))).toThrow(RangeError);
    expect(() => decodeDelta(good.subarray(0, good.length - 1))).toThrow(/length/);
    const wrongVersion = good.slice();
    wrongVersion[0] = 9;
    expect(() => decodeDelta(wrongVersion)).toThrow(/format/);
    const badStatus = good.slice();
    badStatus[DELTA_HEADER_BYTES + 2] = 200;
    expect(() => decodeDelta(badStatus)).toThrow(/status/);
    expect(() => encodeDelta({ seq: 1, tickAtMs: 0, entries: [{ runnerIndex: 70_000, distanceAlongRaceM: 1, status: 1 }] })).toThrow(
      RangeError,
    );
  });
});
