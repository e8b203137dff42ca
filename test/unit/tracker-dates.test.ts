// How tracker apps' timestamps are read: every format Traccar's OsmAnd decoder takes, checked
// against the calendar, UTC when no zone is written, and the time of receipt when there is none.
import { describe, expect, it } from 'vitest';
import { parseDateTime, parseOsmAnd, parseOsmAndTimestamp, parseOwnTracks, parseTraccarJson } from '../../server/ingest/tracker-protocols.ts';

const RECEIVED_MS = Date.UTC(2026, 10, 22, 6, 31, 0);

describe('tracker timestamps', () => {
  it.each([
    ['2026-11-22T06:30:00Z', Date.UTC(2026, 10, 22, 6, 30)],
    ['2026-11-22T06:30:00.250Z', Date.UTC(2026, 10, 22, 6, 30, 0, 250)],
    ['2026-11-22T10:00:00+03:30', Date.UTC(2026, 10, 22, 6, 30)],
    ['2026-11-22T10:00:00+0330', Date.UTC(2026, 10, 22, 6, 30)],
    ['2026-11-22T03:30:00-03', Date.UTC(2026, 10, 22, 6, 30)],
    ['2026-11-22T06:30:00', Date.UTC(2026, 10, 22, 6, 30)], // no zone: UTC
    ['2026-11-22 06:30:00', Date.UTC(2026, 10, 22, 6, 30)], // Traccar's yyyy-MM-dd HH:mm:ss, UTC
    ['2028-02-29 23:59:59', Date.UTC(2028, 1, 29, 23, 59, 59)], // a leap day
  ])('reads %s', (text, expectedMs) => {
    expect(parseDateTime(text)).toBe(expectedMs);
    expect(parseOsmAndTimestamp(text, RECEIVED_MS)).toBe(expectedMs);
  });

  it.each(['2026-02-30T10:00:00Z', '2027-02-29 10:00:00', '2026-13-01T00:00:00Z', '2026-11-22T24:00:00Z', '2026-11-22T06:60:00Z', '2026-11-22T06:30:61Z', '2026-11-22T06:30:00+19:00', '2026-11-22', '22/11/2026 06:30:00', 'yesterday', '2026-11-22T06:30:00ZZ'])(
    'refuses %s rather than guessing',
    (text) => {
      expect(parseDateTime(text)).toBeNull();
      expect(parseOsmAndTimestamp(text, RECEIVED_MS)).toBeInstanceOf(Error);
    },
  );

  it('reads numbers as OsmAnd does: seconds below 2^31, milliseconds above', () => {
    expect(parseOsmAndTimestamp('1795329000', RECEIVED_MS)).toBe(1_795_329_000_000);
    expect(parseOsmAndTimestamp('1795329000123', RECEIVED_MS)).toBe(1_795_329_000_123);
  });

  it('stamps a fix without a timestamp with the time it was received, on every tracker path', () => {
    const osmand = parseOsmAnd({ id: 'device', lat: '35.7', lon: '51.4' }, RECEIVED_MS);
    expect(osmand).toMatchObject({ ok: true, value: { fix: { recordedAtMs: RECEIVED_MS } } });
    // A '+' between date and time arrives as a space once the query string is decoded.
    expect(parseOsmAnd({ id: 'device', lat: '35.7', lon: '51.4', timestamp: '2026-11-22 06:30:00' }, RECEIVED_MS)).toMatchObject({
      ok: true,
      value: { fix: { recordedAtMs: Date.UTC(2026, 10, 22, 6, 30) } },
    });
    const traccar = parseTraccarJson({ device_id: 'device', location: { coords: { latitude: 35.7, longitude: 51.4 } } }, RECEIVED_MS);
    expect(traccar).toMatchObject({ ok: true, value: { fixes: [{ recordedAtMs: RECEIVED_MS }] } });
    expect(parseOwnTracks({ _type: 'location', lat: 35.7, lon: 51.4 }, RECEIVED_MS)).toMatchObject({ ok: true, value: { recordedAtMs: RECEIVED_MS } });
  });

  it('refuses an impossible date in a Traccar Client batch', () => {
    const parsed = parseTraccarJson({ device_id: 'device', location: [{ timestamp: '2026-02-30T10:00:00Z', coords: { latitude: 35.7, longitude: 51.4 } }] }, RECEIVED_MS);
    expect(parsed).toMatchObject({ ok: false, code: 'MALFORMED_FIX' });
  });
});
