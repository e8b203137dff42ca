// A whole race through a tracker app's endpoint, as an organiser's phone would send it: the
// OsmAnd protocol with a position and a time and nothing else (no accuracy, no speed, no
// heading), a fix every 5 s with 12 m of GPS noise, 25 laps of the 400 m track. What spectators
// are then shown: every lap, the finish and its time. (With no accuracy sent, the phone's is
// learnt from its fixes; taken as a fixed 10 m, the 4 km line was 11 s off.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunnerStatus, type Ack, type RaceSnapshot } from '../../shared/protocol.ts';
import { seededRandom } from '../../shared/random.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { noisyRun } from '../../simulations/noisy-run.ts';
import { testDeviceToken, testEvent } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const PACE_SEC_PER_KM = 270;
let server: TestServer;
let event: LoadedEvent;
let startsAtMs: number;

beforeAll(async () => {
  // The gun went off 50 minutes ago: the 45-minute run is over by now.
  startsAtMs = Date.now() - 50 * 60_000;
  event = await testEvent(startsAtMs, 1);
  server = await startTestServer({ event });
});
afterAll(async () => {
  await server.close();
});

async function trackSnapshot(): Promise<RaceSnapshot> {
  const body = (await (await fetch(`${server.url}/api/races/track-10k/snapshot`)).json()) as Ack<RaceSnapshot>;
  if (!body.ok) throw new Error(body.message);
  return body.data;
}

describe('a runner\'s whole race through the OsmAnd endpoint, with no accuracy, speed or heading', () => {
  it('counts every lap, finishes them, and times the finish and each lap line within 5 s', async () => {
    const race = event.races.find((r) => r.raceId === 'track-10k')!;
    const { course } = race;
    const fixes = noisyRun(course, { startMs: startsAtMs, paceSecPerKm: PACE_SEC_PER_KM, intervalSec: 5, noiseM: 12, random: seededRandom(2026) });
    const token = testDeviceToken(race.participants[0]!.participantId);
    const lapsSeen: number[] = [];
    for (const { fix } of fixes) {
      const query = `id=${encodeURIComponent(token)}&lat=${fix.lat.toFixed(7)}&lon=${fix.lon.toFixed(7)}&timestamp=${fix.recordedAtMs}`;
      const response = await fetch(`${server.url}/ingest/osmand?${query}`, { method: 'POST' });
      expect(response.status).toBe(200);
      const runner = (await trackSnapshot()).runners[0]!;
      lapsSeen.push(runner.lap);
    }
    // Laps only go up, one at a time.
    for (let k = 1; k < lapsSeen.length; k++) expect(lapsSeen[k]! - lapsSeen[k - 1]!).toBeGreaterThanOrEqual(0);
    for (let k = 1; k < lapsSeen.length; k++) expect(lapsSeen[k]! - lapsSeen[k - 1]!).toBeLessThanOrEqual(1);

    const snapshot = await trackSnapshot();
    const runner = snapshot.runners[0]!;
    expect(runner.status).toBe(RunnerStatus.finished);
    const truthFinishMs = startsAtMs + ((course.raceDistanceM / 1000) * PACE_SEC_PER_KM) * 1000;
    expect(Math.abs(runner.finishedAtMs! - truthFinishMs)).toBeLessThanOrEqual(5000);
    // Every lap line, then the finish, at the time the runner passed it.
    const points = (await (await fetch(`${server.url}/api/races/track-10k/course`)).json()) as Ack<{ timingPoints: Array<{ distanceAlongRaceM: number }> }>;
    if (!points.ok) throw new Error(points.message);
    expect(runner.crossings).toHaveLength(points.data.timingPoints.length);
    for (const [k, point] of points.data.timingPoints.entries()) {
      const crossing = runner.crossings[k];
      expect(crossing, `timing point ${k}`).not.toBeNull();
      const truthSec = (point.distanceAlongRaceM / 1000) * PACE_SEC_PER_KM;
      expect(Math.abs(crossing![0] - truthSec), `timing point ${k} at ${point.distanceAlongRaceM} m`).toBeLessThanOrEqual(5);
    }
  });
});
