// Results through the real server: the table as JSON and CSV, one category, splits with places at
// each point, the gap to the leader, and the search for a runner across the races one may see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, type Ack } from '../../shared/protocol.ts';
import type { Results, ResultRow } from '../../shared/results.ts';
import { ManualClock } from '../../server/core/clock.ts';
import { parseEvent, type LoadedEvent } from '../../server/event/event-file.ts';
import type { RunnerMatch } from '../../server/results-export.ts';
import { PRIVATE_KEY, testEventJson } from '../support/fixtures.ts';
import { runAlong as runAlongCourse } from '../support/run-along.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { fileURLToPath } from 'node:url';

const clock = new ManualClock(Date.now());
const STARTS_AT_MS = clock.nowMs() - 30 * 60_000;
let server: TestServer;
let event: LoadedEvent;

beforeAll(async () => {
  const json = testEventJson(STARTS_AT_MS);
  const street = json.races[0]!.participants as Array<Record<string, unknown>>;
  street[0]!['categories'] = ['W', 'W35'];
  street[1]!['categories'] = ['M'];
  street[2]!['categories'] = ['W'];
  // A name a spreadsheet would take for a formula.
  street[2]!['name'] = '=HYPERLINK("http://example.invalid")';
  event = await parseEvent(json, { source: 'results test', baseDir: fileURLToPath(new URL('../../server/demo/', import.meta.url)) });
  server = await startTestServer({ event, clock, tickMs: 50 });
  // Both run 400 m at 4 m/s ending now: s-1 passes 5 km 50 s before the end, s-2 25 s before.
  await runAlong(0, 0, 4800, 5200);
  await runAlong(0, 1, 4700, 5100);
});
afterAll(async () => {
  await server.close();
});

const get = async <T,>(path: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${server.url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Ack<T> };
};

/** A runner on from `fromM` to `toM` at 4 m/s, the last fix recorded now. */
const runAlong = (raceIndex: number, participantIndex: number, fromM: number, toM: number) =>
  runAlongCourse(server.url, event.races[raceIndex]!, participantIndex, fromM, toM, clock.nowMs());

const rowOf = (rows: ResultRow[], participantId: string) => rows.find((r) => r.participantId === participantId)!;

describe('results', () => {
  it('places runners by the last point passed and when, with the gap to the leader there and their splits', async () => {
    const { status, body } = await get<Results>('/api/races/street-10k/results');
    expect(status).toBe(200);
    if (!body.ok) throw new Error(body.message);
    const { rows } = body.data;
    expect(rows.map((r) => [r.participantId, r.position, r.status])).toEqual([
      ['s-1', 1, 'racing'],
      ['s-2', 2, 'racing'],
      ['s-3', null, 'not started'],
    ]);
    const leader = rowOf(rows, 's-1');
    const second = rowOf(rows, 's-2');
    const expectedSec = (clock.nowMs() - 50_000 - STARTS_AT_MS) / 1000;
    expect(leader).toMatchObject({ categories: ['W', 'W35'], gapSec: 0, lastPoint: { pointIndex: 0, name: '5 km' }, finishSec: null });
    expect(Math.abs(leader.lastPoint!.sinceStartSec - expectedSec)).toBeLessThan(2);
    expect(Math.abs(second.gapSec! - 25)).toBeLessThan(3);
    // A split at 5 km: the time since the start, as a pace, and the place there.
    expect(leader.splits).toHaveLength(1);
    expect(leader.splits[0]).toMatchObject({ name: '5 km', position: 1 });
    expect(Math.abs(leader.splits[0]!.paceSecPerKm! - leader.splits[0]!.sinceStartSec! / 5)).toBeLessThanOrEqual(1);
    expect(second.splits[0]).toMatchObject({ position: 2 });
  });

  it('places runners within a category', async () => {
    const { body } = await get<{ rows: Array<ResultRow & { categoryPosition: number | null }> }>('/api/races/street-10k/results?category=W');
    if (!body.ok) throw new Error(body.message);
    expect(body.data.rows.map((r) => [r.participantId, r.position, r.categoryPosition])).toEqual([
      ['s-1', 1, 1],
      ['s-3', null, null],
    ]);
  });

  it('exports CSV a spreadsheet opens safely: a column per timing point, no formula from a name', async () => {
    const response = await fetch(`${server.url}/api/races/street-10k/results?format=csv`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="street-10k-results.csv"');
    const bytes = new Uint8Array(await response.arrayBuffer());
    // A byte-order mark first, so spreadsheets read the file as UTF-8 (Persian names).
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = new TextDecoder().decode(bytes).trimEnd().split('\r\n');
    expect(lines[0]).toBe('position,bib,name,categories,status,distance_m,last_point,last_point_time,last_split,gap,finish_time,net_time,5 km,Finish');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^1,S1,Runner s 1,W W35,racing,/);
    expect(lines[2]).toMatch(/,\+0:2\d\.\d,/); // 20-odd seconds behind at 5 km
    expect(lines[3]).toContain(`"'=HYPERLINK(""http://example.invalid"")"`);
  });

  it('refuses an unknown format or a bad category, and a private race without its key, each with its code', async () => {
    expect(await get('/api/races/street-10k/results?format=xml')).toMatchObject({ status: 400, body: { ok: false, code: ErrorCodes.MALFORMED_REQUEST } });
    expect(await get(`/api/races/street-10k/results?category=${'x'.repeat(40)}`)).toMatchObject({ status: 400, body: { code: ErrorCodes.MALFORMED_REQUEST } });
    expect(await get('/api/races/street-10k/results?sort=name')).toMatchObject({ status: 400, body: { code: ErrorCodes.MALFORMED_REQUEST } });
    expect(await get('/api/races/loop-32k/results')).toMatchObject({ status: 404, body: { code: ErrorCodes.UNKNOWN_RACE } });
    expect(await get('/api/races/loop-32k/results', { 'x-race-key': PRIVATE_KEY })).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('finds a runner by bib or name across the races one may see, a private one only with its key', async () => {
    const byBib = await get<{ matches: RunnerMatch[] }>('/api/results/search?q=s1');
    expect(byBib.body.ok && byBib.body.data.matches).toEqual([
      expect.objectContaining({ raceId: 'street-10k', participantId: 's-1', bib: 'S1', position: 1, status: 'racing' }),
    ]);
    const byName = await get<{ matches: RunnerMatch[] }>('/api/results/search?q=runner');
    if (!byName.body.ok) throw new Error(byName.body.message);
    const races = new Set(byName.body.data.matches.map((m) => m.raceId));
    expect(races).toEqual(new Set(['street-10k', 'track-10k']));
    const withKey = await get<{ matches: RunnerMatch[] }>('/api/results/search?q=runner p', { 'x-race-key': PRIVATE_KEY });
    expect(withKey.body.ok && withKey.body.data.matches.map((m) => m.participantId)).toEqual(['p-1', 'p-2']);
    // A name the event file gives in two scripts is found by either, and comes with both.
    for (const q of ['رضایی', 'runner s 2']) {
      const found = await get<{ matches: RunnerMatch[] }>(`/api/results/search?q=${encodeURIComponent(q)}`);
      expect(found.body.ok && found.body.data.matches.filter((m) => m.participantId === 's-2'), q).toEqual([
        expect.objectContaining({ name: 'Runner s 2', names: { fa: 'سارا رضایی' }, raceName: 'Street 10 km', raceNames: { fa: '۱۰ کیلومتر خیابانی' } }),
      ]);
    }
    expect(await get('/api/results/search?q=')).toMatchObject({ status: 400, body: { code: ErrorCodes.MALFORMED_REQUEST } });
    expect(await get(`/api/results/search?q=${'a'.repeat(65)}`)).toMatchObject({ status: 400, body: { code: ErrorCodes.MALFORMED_REQUEST } });
  });
});
