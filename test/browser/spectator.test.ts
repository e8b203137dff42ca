// The spectator page in headless Chromium against a running server: the course and the moving
// runners are drawn (checked by screenshot pixels), and the page talks to nothing but the server.
// Every test also checks that the page broke no CSP directive and sent no secret in a query string.
import { fileURLToPath } from 'node:url';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaledClock } from '../../server/core/clock.ts';
import { loadEventFile, type LoadedEvent } from '../../server/event/event-file.ts';
import { startDemoSimulation, type DemoSimulation } from '../../server/demo/simulated-runners.ts';
import { COURSE_COLOUR, FOLLOWED_COLOUR, RUNNER_COLOURS } from '../../web/src/colours.ts';
import { eventSecrets, expectClean, guardPage } from '../support/browser-guard.ts';
import { countPixelsNear, hexToRgb } from '../support/pixels.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromium } from '../support/requirements.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const DEMO_EVENT = fileURLToPath(new URL('../../server/demo/tehrun.event.json', import.meta.url));
const available = chromium().available;

/** Requests the page made that were not to the server under test. */
function offMachineRequests(page: Page, server: TestServer): string[] {
  const outside: string[] = [];
  const isLocal = (url: string) =>
    url.startsWith(`${server.url}/`) ||
    url.startsWith(`ws://127.0.0.1:${server.port}/`) ||
    url.startsWith('data:') ||
    url.startsWith('blob:');
  page.on('request', (request) => {
    if (!isLocal(request.url())) outside.push(request.url());
  });
  page.on('websocket', (ws) => {
    if (!isLocal(ws.url())) outside.push(ws.url());
  });
  return outside;
}

async function mapScreenshot(page: Page): Promise<Buffer> {
  return page.locator('#map').screenshot();
}

describe.skipIf(!available)('spectator page (Chromium)', () => {
  let browser: Browser;
  let server: TestServer;
  let simulation: DemoSimulation;
  let event: LoadedEvent;

  beforeAll(async () => {
    event = await loadEventFile(DEMO_EVENT);
    // The demo as `npm start --speed 30` runs it: a sped-up clock shared by server and runners.
    const clock = scaledClock(30);
    server = await startTestServer({ event, clock, tickMs: 250, defaultStartMs: clock.nowMs() });
    simulation = startDemoSimulation({
      url: server.url,
      event: { ...event, races: event.races.filter((r) => r.raceId === 'men-10k' || r.raceId === 'women-32k-park') },
      raceStartMs: () => server.service.listRaces({ includePrivate: true })[0]!.startsAtMs,
      clock,
      speed: 30,
      pingEverySec: 30,
    });
    browser = await playwright.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    simulation?.stop();
    await browser?.close();
    await server?.close();
  });

  it('draws the course and the moving runners with no token and no request off the machine', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const guard = await guardPage(page, eventSecrets(event));
    const outside = offMachineRequests(page, server);
    await page.goto(`${server.url}/?race=men-10k`);
    await page.waitForFunction(() => Number(document.body.dataset['runnersDrawn'] ?? 0) >= 40, null, { timeout: 20_000 });
    expect(await page.evaluate(() => document.body.dataset['mapLibrary'])).toBe('maplibre-gl');
    const firstSeq = Number(await page.evaluate(() => document.body.dataset['seq']));
    // Let a few ticks arrive so the runners are drawn where the latest delta puts them.
    await page.waitForFunction((seq) => Number(document.body.dataset['seq']) >= seq + 3, firstSeq, { timeout: 10_000 });

    // The map paints on its next frames: screenshots until the course and the runners show.
    await expect
      .poll(async () => {
        const png = await mapScreenshot(page);
        return { course: countPixelsNear(png, hexToRgb(COURSE_COLOUR)) > 500, runners: countPixelsNear(png, hexToRgb(RUNNER_COLOURS[1])) > 100 };
      }, { timeout: 10_000 })
      .toEqual({ course: true, runners: true });
    expect(outside).toEqual([]);
    await expectClean(guard);
    await page.close();
  });

  it('follows a runner by bib and shows their distance and lap', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const guard = await guardPage(page, eventSecrets(event));
    await page.goto(`${server.url}/?race=men-10k`);
    await page.waitForFunction(() => Number(document.body.dataset['runnersDrawn'] ?? 0) >= 40, null, { timeout: 20_000 });
    await page.fill('#follow-input', '3005');
    await page.press('#follow-input', 'Enter');
    await page.locator('#followed-distance').waitFor({ state: 'visible' });
    await expect.poll(() => page.textContent('#followed-name')).toMatch(/^3005 /);
    expect(await page.textContent('#followed-distance')).toMatch(/^\d+\.\d\d km of 10 km$/);
    expect(await page.textContent('#followed-lap')).toBe('1 of 1');
    await expect.poll(async () => countPixelsNear(await mapScreenshot(page), hexToRgb(FOLLOWED_COLOUR)), { timeout: 10_000 }).toBeGreaterThan(30);
    await expectClean(guard);
    await page.close();
  });

  it('shows a private race only through a link with its key (in the fragment)', async () => {
    const race = event.races.find((r) => r.isPrivate)!;
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const guard = await guardPage(page, [...eventSecrets(event), 'wrong-key-wrong-key']);
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => document.body.dataset['courseDrawn'] !== undefined, null, { timeout: 20_000 });
    const listed = await page.$$eval('#race-select option', (options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(listed).not.toContain(race.raceId);

    await page.goto(`${server.url}/?race=${race.raceId}#key=wrong-key-wrong-key`);
    await expect.poll(() => page.textContent('#message'), { timeout: 10_000 }).toMatch(/no such race/);

    // The right key pasted into the same tab: only the fragment differs, so the browser does not
    // load the page; the page reloads itself to use the new key.
    await Promise.all([page.waitForEvent('load'), page.goto(`${server.url}/?race=${race.raceId}#key=${encodeURIComponent(race.key!)}`)]);
    await page.waitForFunction((id) => document.body.dataset['courseDrawn'] === id, race.raceId, { timeout: 20_000 });
    await page.waitForFunction(() => Number(document.body.dataset['runnersDrawn'] ?? 0) >= 20, null, { timeout: 20_000 });
    const png = await mapScreenshot(page);
    expect(countPixelsNear(png, hexToRgb(COURSE_COLOUR))).toBeGreaterThan(500);
    // Switching races keeps the key in the fragment and the race in the query.
    await page.selectOption('#race-select', 'men-10k');
    await page.waitForFunction(() => document.body.dataset['courseDrawn'] === 'men-10k', null, { timeout: 20_000 });
    expect(page.url()).toBe(`${server.url}/?race=men-10k#key=${encodeURIComponent(race.key!)}`);
    await expectClean(guard);
    await page.close();
  });
});

describe.skipIf(!available)('spectator page with a Mapbox token (Chromium)', () => {
  let browser: Browser;
  let server: TestServer;
  let event: LoadedEvent;

  beforeAll(async () => {
    event = await loadEventFile(DEMO_EVENT);
    // A token of Mapbox's shape; Mapbox's hosts are answered by the test below.
    const token = `pk.${Buffer.from(JSON.stringify({ u: 'racetrack-test', a: 'test' })).toString('base64url')}.test`;
    server = await startTestServer({ event, basemap: { kind: 'mapbox', token } });
    browser = await playwright.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('draws the course with mapbox-gl, and every request to Mapbox is answered here', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const guard = await guardPage(page, eventSecrets(event));
    const answered: string[] = [];
    const refused: string[] = [];
    await page.route(
      (url) => url.hostname !== '127.0.0.1',
      async (route) => {
        const url = new URL(route.request().url());
        if (!url.hostname.endsWith('mapbox.com')) {
          refused.push(url.href);
          await route.abort();
          return;
        }
        answered.push(url.pathname);
        if (url.pathname.startsWith('/styles/v1/')) {
          await route.fulfill({
            contentType: 'application/json',
            body: JSON.stringify({
              version: 8,
              name: 'test style',
              sources: {},
              layers: [{ id: 'land', type: 'background', paint: { 'background-color': '#eaeaea' } }],
            }),
          });
        } else {
          await route.fulfill({ status: 204, body: '' });
        }
      },
    );
    await page.goto(`${server.url}/?race=men-42k`);
    await page.waitForFunction(() => document.body.dataset['courseDrawn'] === 'men-42k', null, { timeout: 20_000 });
    expect(await page.evaluate(() => document.body.dataset['mapLibrary'])).toBe('mapbox-gl');
    await expect.poll(async () => countPixelsNear(await mapScreenshot(page), hexToRgb(COURSE_COLOUR)), { timeout: 10_000 }).toBeGreaterThan(500);
    expect(answered.some((p) => p.startsWith('/styles/v1/mapbox/'))).toBe(true);
    expect(refused).toEqual([]);
    await expectClean(guard);
    await page.close();
  });
});
