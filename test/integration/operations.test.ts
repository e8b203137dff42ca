// What an operator relies on: /metrics in Prometheus' format, request logs with no secret in
// them, and a shutdown that ends within its deadline and says when it could not.
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../shared/protocol.ts';
import { defaultSocketLimits } from '../../server/realtime/socket-limits.ts';
import { startServerProcess, writeEventFile, type ServerProcess } from '../../simulations/server-process.ts';
import { PRIVATE_KEY, testEvent, testEventJson } from '../support/fixtures.ts';
import { TEST_ORGANISER_TOKEN, connectDevice, connectSpectator, connected, startTestServer, until, type TestServer } from '../support/test-server.ts';

const servers: TestServer[] = [];
const processes: ServerProcess[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  await Promise.all(processes.splice(0).map((p) => p.kill()));
});

const organiser = { authorization: `Bearer ${TEST_ORGANISER_TOKEN}` };

/** The value of one sample in a Prometheus exposition, or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics', () => {
  it('is for organisers and counts fixes by outcome, sockets, races written, refusals and the event loop', async () => {
    const event = await testEvent(Date.now() - 5 * 60_000, 3);
    const server = await startTestServer({ event, socketLimits: { ...defaultSocketLimits, spectatorPerSecond: 1, spectatorBurstPer10s: 0 } });
    servers.push(server);
    const anonymous = await fetch(`${server.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: ErrorCodes.UNAUTHORIZED });

    const participant = event.races[0]!.participants[0]!;
    const device = connectDevice(server.url, participant.deviceToken);
    await connected(device);
    const [lon, lat] = event.races[0]!.course.path.pointAtRaceDistance(500);
    expect(await device.emitWithAck('position', { lon, lat, recordedAtMs: Date.now() - 1000, accuracyM: 5 })).toMatchObject({ ok: true });
    expect(await device.emitWithAck('position', { lon, lat: 95, recordedAtMs: Date.now() })).toMatchObject({ code: ErrorCodes.COORDINATES_OUT_OF_RANGE });
    const spectator = connectSpectator(server.url);
    await connected(spectator);
    // Over a budget of one a second: the second join is refused.
    await spectator.emitWithAck('race:join', { raceId: 'street-10k' });
    expect(await spectator.emitWithAck('race:join', { raceId: 'street-10k' })).toMatchObject({ code: ErrorCodes.RATE_LIMITED });
    await server.app.ticker.tick();

    const response = await fetch(`${server.url}/metrics`, { headers: organiser });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(sample(text, 'racetrack_fixes_total', '{outcome="applied"}')).toBe(1);
    expect(sample(text, 'racetrack_fixes_total', '{outcome="COORDINATES_OUT_OF_RANGE"}')).toBe(1);
    expect(sample(text, 'racetrack_sockets', '{namespace="devices"}')).toBe(1);
    expect(sample(text, 'racetrack_sockets', '{namespace="spectators"}')).toBe(1);
    expect(sample(text, 'racetrack_races_written')).toBe(3);
    expect(sample(text, 'racetrack_fixes_in_flight_limit')).toBe(15_000); // as docs/PROTOCOL.md gives it
    expect(sample(text, 'racetrack_rate_limited_total', '{surface="socket-spectator"}')).toBe(1);
    expect(sample(text, 'racetrack_deltas_total')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'racetrack_delta_bytes_total')).toBeGreaterThan(0);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    expect(text).toMatch(/^racetrack_tick_lag_seconds_count \d/m);
    device.disconnect();
    spectator.disconnect();
  });
});

describe('request logs', () => {
  it('have one line per request with method, redacted URL and status, and no credential or key anywhere', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const event = await testEvent(Date.now() - 5 * 60_000, 3);
    const server = await startTestServer({ event, logger: pino({ level: 'info' }, sink) });
    servers.push(server);
    const token = event.races[0]!.participants[1]!.deviceToken;
    await fetch(`${server.url}/ingest/osmand?id=${token}&lat=35.7&lon=51.4`);
    await fetch(`${server.url}/api/races/loop-32k?key=${PRIVATE_KEY}`);
    await fetch(`${server.url}/api/organiser/devices`, { headers: organiser });
    await fetch(`${server.url}/healthz`);
    // (Besides the server's own lines: which races it writes.)
    const requestLines = () => lines.map((line) => JSON.parse(line) as { req?: { method: string; url: string }; res?: { statusCode: number }; msg: string }).filter((e) => e.req !== undefined);
    await until(() => requestLines().length >= 3);
    expect(requestLines().map((e) => [e.req?.method, e.req?.url, e.res?.statusCode])).toEqual([
      ['GET', '/ingest/osmand?id=%5Bredacted%5D&lat=35.7&lon=51.4', 200],
      ['GET', '/api/races/loop-32k?key=%5Bredacted%5D', 200],
      ['GET', '/api/organiser/devices', 200],
    ]);
    const all = lines.join('\n');
    for (const secret of [token, PRIVATE_KEY, TEST_ORGANISER_TOKEN]) expect(all).not.toContain(secret);
  });
});

describe('shutdown', () => {
  const eventFile = writeEventFile(testEventJson(Date.now() - 10 * 60_000));

  it('ends with exit code 0 on SIGTERM', async () => {
    const server = await startServerProcess(eventFile, { ORGANISER_TOKEN: TEST_ORGANISER_TOKEN });
    processes.push(server);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await server.kill('SIGTERM')).toBe('0');
  });

  it('exits with a failure when it cannot finish within its deadline (a request that never ends)', async () => {
    const server = await startServerProcess(eventFile, { ORGANISER_TOKEN: TEST_ORGANISER_TOKEN, SHUTDOWN_DEADLINE_MS: '300' });
    processes.push(server);
    // An upload whose body never finishes holds the HTTP server open.
    const { hostname, port } = new URL(server.url);
    const held = request({ hostname, port, method: 'PUT', path: '/api/organiser/races/street-10k/course', headers: { ...organiser, 'content-type': 'application/json', 'content-length': '100000' } });
    held.on('error', () => {});
    held.write('{"kind":');
    await until(() => held.socket?.writable === true);
    const startedMs = Date.now();
    expect(await server.kill('SIGTERM')).toBe('1');
    expect(Date.now() - startedMs).toBeLessThan(10_000);
    held.destroy();
  });
});

describe('device tokens the server makes', () => {
  it('are the same on every process and after a restart when LINK_SECRET is set', async () => {
    const json = testEventJson(Date.now() - 10 * 60_000);
    const street = (json.races as Array<{ participants: Array<{ deviceToken?: string }> }>)[0]!;
    delete street.participants[0]!.deviceToken;
    const eventFile = writeEventFile(json);
    const env = { ORGANISER_TOKEN: TEST_ORGANISER_TOKEN, LINK_SECRET: 'Vq8-secret-shared-by-every-process-4kZ1' };
    const tokenOn = async (server: ServerProcess) => {
      const response = await fetch(`${server.url}/api/organiser/devices`, { headers: organiser });
      const body = (await response.json()) as { data: { devices: Array<{ participantId: string; deviceToken: string }> } };
      return body.data.devices.find((d) => d.participantId === 's-1')!.deviceToken;
    };
    const a = await startServerProcess(eventFile, env);
    processes.push(a);
    const b = await startServerProcess(eventFile, env);
    processes.push(b);
    const token = await tokenOn(a);
    expect(await tokenOn(b)).toBe(token);
    await a.kill('SIGTERM');
    const again = await startServerProcess(eventFile, env);
    processes.push(again);
    expect(await tokenOn(again)).toBe(token);
    // A phone set up with it before the restart is still taken.
    const at = Math.round(Date.now() / 1000) - 1;
    expect((await fetch(`${again.url}/ingest/osmand?id=${token}&lat=35.7&lon=51.4&timestamp=${at}`)).status).toBe(200);
  });
});
