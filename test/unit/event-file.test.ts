import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_EVENT_FILE } from '../../server/config.ts';
import { EventFileError, loadEventFile, parseEvent } from '../../server/event/event-file.ts';
import { testEventJson } from '../support/fixtures.ts';

const baseDir = join(DEMO_EVENT_FILE, '..');
const parse = (json: unknown) => parseEvent(json, { source: 'event.json', baseDir });

/** The problems an invalid event is reported with. */
async function problemsOf(json: unknown): Promise<string[]> {
  try {
    await parse(json);
  } catch (err) {
    if (err instanceof EventFileError) return err.problems;
    throw err;
  }
  throw new Error('the event was accepted');
}

describe('the built-in TehRUN demo', () => {
  it('has the races the demo promises, about 442 participants, about 160 of them women', async () => {
    const event = await loadEventFile(DEMO_EVENT_FILE);
    const byId = new Map(event.races.map((r) => [r.raceId, r]));
    expect([...byId.keys()]).toEqual(['men-42k', 'men-21k', 'men-10k', 'women-10k-stadium', 'women-32k-park']);
    expect(byId.get('men-42k')!.distanceM).toBe(42195);
    expect(byId.get('women-10k-stadium')!.course).toMatchObject({ kind: 'track', lapLengthM: expect.closeTo(400, 2) });
    expect(byId.get('women-32k-park')).toMatchObject({ isPrivate: true, course: { kind: 'loop', lapLengthM: 700, isLapped: true } });
    const count = (prefix: string) =>
      event.races.filter((r) => r.raceId.startsWith(prefix)).reduce((n, r) => n + r.participants.length, 0);
    expect(count('men') + count('women')).toBe(442);
    expect(count('women')).toBe(160);
  });
});

describe('event file validation', () => {
  it('accepts the test event', async () => {
    const event = await parse(testEventJson(Date.UTC(2026, 0, 1)));
    expect(event.races.map((r) => r.raceId)).toEqual(['street-10k', 'track-10k', 'loop-32k']);
    expect(event.races[0]!.startsAtMs).toBe(Date.UTC(2026, 0, 1));
  });

  it('says where each problem is', async () => {
    const json = testEventJson(0);
    const races = json.races as Array<Record<string, unknown>>;
    delete races[2]!['key'];
    races[1]!['distanceM'] = -5;
    (races[0]!['participants'] as Array<Record<string, unknown>>)[1]!['id'] = 'Not An Id';
    const problems = await problemsOf(json);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^races\[2\]\.key: a private race needs a key/),
        expect.stringMatching(/^races\[1\]\.distanceM: /),
        expect.stringMatching(/^races\[0\]\.participants\[1\]\.id: use 1 to 64 lower-case/),
      ]),
    );
  });

  it('takes participants\' categories for results, and refuses too many or too long ones, naming where', async () => {
    const json = testEventJson(0);
    const participants = json.races[0]!.participants as Array<Record<string, unknown>>;
    participants[0]!['categories'] = ['W', 'W35', 'W'];
    const event = await parse(json);
    expect(event.races[0]!.participants[0]!.categories).toEqual(['W', 'W35']);
    expect(event.races[0]!.participants[1]!.categories).toBeUndefined();
    participants[1]!['categories'] = ['a', 'b', 'c', 'd', 'e'];
    participants[2]!['categories'] = ['x'.repeat(33)];
    expect(await problemsOf(json)).toEqual([
      expect.stringMatching(/^races\[0\]\.participants\[1\]\.categories: /),
      expect.stringMatching(/^races\[0\]\.participants\[2\]\.categories\[0\]: /),
    ]);
  });

  it('takes names in both scripts for participants and races, and refuses another language or an empty name, naming where', async () => {
    const json = testEventJson(0);
    const event = await parse(json);
    expect(event.races[0]!.names).toEqual({ fa: '۱۰ کیلومتر خیابانی' });
    expect(event.races[1]!.names).toBeNull();
    expect(event.races[0]!.participants[1]!.names).toEqual({ fa: 'سارا رضایی' });
    expect(event.races[0]!.participants[0]!.names).toBeUndefined();
    const participants = json.races[0]!.participants as Array<Record<string, unknown>>;
    participants[0]!['names'] = { de: 'Läuferin' };
    participants[2]!['names'] = { fa: '  ' };
    (json.races[1] as Record<string, unknown>)['names'] = 'Track';
    expect(await problemsOf(json)).toEqual([
      expect.stringMatching(/^races\[0\]\.participants\[0\]\.names: /),
      expect.stringMatching(/^races\[0\]\.participants\[2\]\.names\.fa: /),
      expect.stringMatching(/^races\[1\]\.names: /),
    ]);
  });

  it('takes points of interest in order along the course, and refuses one beyond the race or the lap', async () => {
    const json = testEventJson(0);
    const races = json.races as Array<Record<string, unknown>>;
    races[0]!['pointsOfInterest'] = [
      { name: 'First aid', kind: 'medical', distanceM: 7000 },
      { name: 'Water', kind: 'water', distanceM: 5000 },
    ];
    const event = await parse(json);
    expect(event.races[0]!.pointsOfInterest.map((p) => p.name)).toEqual(['Water', 'First aid']);
    races[1]!['pointsOfInterest'] = [{ name: 'Water table', kind: 'water', distanceM: 450 }];
    expect(await problemsOf(json)).toEqual(['races[1].pointsOfInterest[0].distanceM: must be within the lap (400 m)']);
    races[2]!['pointsOfInterest'] = [{ name: 'Bar', kind: 'pub', distanceM: 10 }];
    expect(await problemsOf(json)).toEqual([expect.stringMatching(/^races\[2\]\.pointsOfInterest\[0\]\.kind: /)]);
  });

  it('refuses duplicate race and participant ids and shared device tokens', async () => {
    const json = testEventJson(0);
    const races = json.races as Array<{ id: string; participants: Array<{ id: string; deviceToken: string }> }>;
    races[1]!.id = 'street-10k';
    races[2]!.participants[0]!.id = 's-1';
    races[2]!.participants[1]!.deviceToken = races[0]!.participants[0]!.deviceToken;
    const problems = await problemsOf(json);
    expect(problems).toEqual([
      'races[1].id: race id "street-10k" is used twice',
      'races[2].participants[0].id: participant id "s-1" is used twice',
      'races[2].participants[1].deviceToken: used by another participant',
    ]);
  });

  it('refuses device tokens and race keys that are short or easy to guess, naming each', async () => {
    const json = testEventJson(0);
    const races = json.races as Array<{ key?: string; participants: Array<{ deviceToken: string }> }>;
    races[0]!.participants[0]!.deviceToken = 'token-s-1-0123456789'; // a word and a sequence
    races[0]!.participants[1]!.deviceToken = 'abc123';
    races[2]!.key = 'private-race-password';
    const problems = await problemsOf(json);
    expect(problems).toEqual([
      expect.stringMatching(/^races\[0\]\.participants\[0\]\.deviceToken: a device token is too easy to guess/),
      expect.stringMatching(/^races\[0\]\.participants\[1\]\.deviceToken: a device token needs at least 16 characters/),
      expect.stringMatching(/^races\[2\]\.key: a race key is too easy to guess/),
    ]);
  });

  it('gives a participant without a token the same one on every load with the same secret, a random one without', async () => {
    const json = testEventJson(0);
    const races = json.races as Array<{ participants: Array<{ deviceToken?: string }> }>;
    const given = races[0]!.participants[1]!.deviceToken;
    delete races[0]!.participants[0]!.deviceToken;
    delete races[1]!.participants[2]!.deviceToken;
    const tokensOf = async (tokenSecret: string | null) => {
      const event = await parseEvent(json, { source: 'event.json', baseDir, tokenSecret });
      return [event.races[0]!.participants[0]!.deviceToken, event.races[1]!.participants[2]!.deviceToken, event.races[0]!.participants[1]!.deviceToken];
    };
    const secret = 'Vq8-secret-shared-by-every-process-4kZ1';
    const first = await tokensOf(secret);
    expect(await tokensOf(secret)).toEqual(first);
    expect(first[0]).not.toBe(first[1]);
    expect(first[0]).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(first[2]).toBe(given); // a token the file gives is kept
    const other = await tokensOf('Another-secret-entirely-77Qp-xR2m');
    expect(other[0]).not.toBe(first[0]);
    const [random1] = await tokensOf(null);
    const [random2] = await tokensOf(null);
    expect(random1).not.toBe(random2);
  });

  it('reports malformed GeoJSON with what is wrong and where', async () => {
    const json = testEventJson(0);
    const races = json.races as Array<{ course: Record<string, unknown> }>;
    races[0]!.course = { kind: 'street', geojson: { type: 'LineString', coordinates: [[51.3, 35.7], ['x', 35.7]] } };
    races[2]!.course = { kind: 'loop', geojson: { type: 'Point', coordinates: [51.3, 35.7] } };
    const problems = await problemsOf(json);
    expect(problems[0]).toMatch(/^races\[0\]\.course\.geojson: invalid GeoJSON: at 1: Position must only contain numbers/);
    expect(problems[1]).toBe('races[2].course.geojson: needs exactly one LineString (found 0)');
  });

  it('catches [lat, lon] written the wrong way round and unreadable course files', async () => {
    const json = testEventJson(0);
    const races = json.races as Array<{ course: Record<string, unknown> }>;
    const swapped = Array.from({ length: 10 }, (_, i) => [35.7, 151.3 + i / 1000]);
    races[0]!.course = { kind: 'street', geojson: { type: 'LineString', coordinates: swapped } };
    races[2]!.course = { kind: 'loop', file: 'courses/missing.geojson' };
    const problems = await problemsOf(json);
    expect(problems[0]).toMatch(/coordinate 0 \[35\.7, 151\.3\] is outside/);
    expect(problems[3]).toBe('races[0].course.geojson: and 7 more coordinates outside the range');
    expect(problems[4]).toMatch(/^races\[2\]\.course\.file \(courses\/missing\.geojson\): cannot be read/);
  });

  it('reports lines that are valid GeoJSON but not courses, with every problem at once', async () => {
    const json = testEventJson(0);
    const races = json.races as Array<{ course: Record<string, unknown> }>;
    races[0]!.course = { kind: 'street', geojson: { type: 'LineString', coordinates: [[51.3, 35.7], [51.3, 35.7]] } };
    races[2]!.course = { kind: 'loop', geojson: { type: 'LineString', coordinates: [[51.3, 35.7], [51.31, 35.7], [51.31, 35.71]] } };
    expect(await problemsOf(json)).toEqual([
      'races[0].course: a course must have a length',
      expect.stringMatching(/^races\[2\]\.course: a loop course must end where it starts; its ends are \d+ m apart/),
    ]);
  });

  it('checks road sections against the races they name', async () => {
    const json = { ...testEventJson(0), sections: [
      { id: 'a', name: 'A', spans: [{ raceId: 'street-10k', fromM: 0, toM: 1000 }, { raceId: 'nope', fromM: 0, toM: 10 }] },
      { id: 'a', name: 'A again', spans: [{ raceId: 'street-10k', fromM: 9000, toM: 12000 }] },
    ] };
    expect(await problemsOf(json)).toEqual([
      'sections[0].spans[1].raceId: no race "nope"',
      'sections[1].id: section id "a" is used twice',
      "sections[1].spans[0]: needs 0 <= fromM < toM <= the race's distance (10000 m)",
    ]);
    const demo = await loadEventFile(DEMO_EVENT_FILE);
    expect(demo.sections).toHaveLength(22);
    expect(demo.sections[0]!.spans.map((s) => s.raceId)).toEqual(['men-42k', 'men-42k', 'men-21k', 'men-21k', 'men-10k', 'men-10k']);
  });

  it('reports a file that is not JSON, or missing, without throwing anything else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'event-'));
    writeFileSync(join(dir, 'bad.json'), '{ "name": ');
    await expect(loadEventFile(join(dir, 'bad.json'))).rejects.toThrow(/is not JSON/);
    await expect(loadEventFile(join(dir, 'none.json'))).rejects.toThrow(/cannot be read \(ENOENT\)/);
    await expect(parse({ name: 'x', races: [] })).rejects.toThrow(/races/);
    await expect(parse({ name: 'x', races: [{}], extra: 1 })).rejects.toBeInstanceOf(EventFileError);
  });
});
