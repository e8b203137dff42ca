// A small event for tests, in the event-file format so that format is exercised too: a street
// course (the demo's 10 km out-and-back), a 400 m track and a private 700 m loop.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseEvent, type LoadedEvent } from '../../server/event/event-file.ts';

const baseDir = fileURLToPath(new URL('../../server/demo/', import.meta.url));
export const PRIVATE_KEY = 'test-private-race-key-42';

/** A participant's device token in the test event: fixed, and as hard to guess as the server asks. */
export function testDeviceToken(participantId: string): string {
  return `token-${participantId}-${createHash('sha256').update(participantId).digest('hex').slice(0, 16)}`;
}

export function testEventJson(startsAtMs: number, runnersPerRace = 3) {
  const startsAt = new Date(startsAtMs).toISOString();
  const runners = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({
      id: `${prefix}-${i + 1}`,
      bib: `${prefix.toUpperCase()}${i + 1}`,
      name: `Runner ${prefix} ${i + 1}`,
      // One name given in both scripts, as an event file may (docs/EVENT-FILE.md).
      ...(prefix === 's' && i === 1 ? { names: { fa: 'سارا رضایی' } } : {}),
      deviceToken: testDeviceToken(`${prefix}-${i + 1}`),
    }));
  return {
    name: 'Test event',
    races: [
      {
        id: 'street-10k',
        name: 'Street 10 km',
        names: { fa: '۱۰ کیلومتر خیابانی' },
        distanceM: 10000,
        startsAt,
        course: { kind: 'street', file: 'courses/street-10k.geojson' },
        participants: runners('s', runnersPerRace),
      },
      {
        id: 'track-10k',
        name: 'Track 10 km',
        distanceM: 10000,
        startsAt,
        course: { kind: 'track', centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: 168, lane: 1 },
        participants: runners('t', runnersPerRace),
      },
      {
        id: 'loop-32k',
        name: 'Private loop 32 km',
        distanceM: 32000,
        startsAt,
        private: true,
        key: PRIVATE_KEY,
        course: { kind: 'loop', lapLengthM: 700, file: 'courses/park-loop-700m.geojson' },
        participants: runners('p', 2),
      },
    ],
  };
}

/** A race organisers add while the event runs (the event file's race object, course inline): a 5 km on the test event's track. */
export function addedTrackRace(participants: Array<{ id: string; bib: string; name: string; deviceToken?: string }>) {
  return {
    id: 'women-5k-added',
    name: "Women's 5 km, added",
    distanceM: 5000,
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    course: { kind: 'track', centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: 168 },
    participants,
  };
}

export function testEvent(startsAtMs: number, runnersPerRace = 3): Promise<LoadedEvent> {
  return parseEvent(testEventJson(startsAtMs, runnersPerRace), { source: 'test event', baseDir });
}
