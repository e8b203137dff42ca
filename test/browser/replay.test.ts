// Replay on the spectator page, in headless Chromium against a running server: moving the time
// slider to a past moment puts the followed runner where they were then and draws their own
// track up to it; closing the replay is back to the race as it is now.
import { fileURLToPath } from 'node:url';
import { chromium as playwright, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '../../shared/protocol.ts';
import { parseEvent, type LoadedEvent } from '../../server/event/event-file.ts';
import { TRACK_COLOUR } from '../../web/src/colours.ts';
import { eventSecrets, expectClean, guardPage } from '../support/browser-guard.ts';
import { testEventJson } from '../support/fixtures.ts';
import { countPixelsNear, hexToRgb } from '../support/pixels.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromium } from '../support/requirements.ts';
import { connectDevice, connected, startTestServer, type TestServer } from '../support/test-server.ts';

const available = chromium().available;
const STARTS_AT_MS = Date.now() - 30 * 60_000;
const RUN_SEC = 500;

describe.skipIf(!available)('replay on the spectator page (Chromium)', () => {
  let browser: Browser;
  let server: TestServer;
  let event: LoadedEvent;
  let runStartMs = 0;

  beforeAll(async () => {
    event = await parseEvent(testEventJson(STARTS_AT_MS), { source: 'replay test', baseDir: fileURLToPath(new URL('../../server/demo/', import.meta.url)) });
    server = await startTestServer({ event });
    // s-1 runs 0 to 2,000 m at 4 m/s, a fix every 5 s, the last one 10 s ago.
    const race = event.races[0]!;
    const device = connectDevice(server.url, race.participants[0]!.deviceToken);
    await connected(device);
    const lastAtMs = Date.now() - 10_000;
    runStartMs = lastAtMs - RUN_SEC * 1000;
    for (let sec = 0; sec <= RUN_SEC; sec += 5) {
      const [lon, lat] = race.course.path.pointAtRaceDistance(4 * sec);
      const ack = await (device as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> }).emitWithAck('position', {
        lon,
        lat,
        recordedAtMs: runStartMs + sec * 1000,
        accuracyM: 5,
      });
      if (!ack.ok) throw new Error(ack.message);
    }
    device.disconnect();
    browser = await playwright.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const [viewportName, viewport] of [
    ['desktop', { width: 1000, height: 760 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    it(`takes the followed runner back to where they were at a past moment, with their track, then back to now (${viewportName})`, async () => {
      const page = await browser.newPage({ viewport });
      const guard = await guardPage(page, eventSecrets(event));
      await page.goto(`${server.url}/?race=street-10k`);
      await page.waitForFunction(() => Number(document.body.dataset['runnersDrawn'] ?? 0) >= 1, null, { timeout: 20_000 });
      await page.fill('#follow-input', 'S1');
      await page.press('#follow-input', 'Enter');
      await expect.poll(() => page.textContent('#followed-distance')).toMatch(/^2\.0\d km of 10 km$/);

      await page.click('#replay-panel summary');
      await page.waitForFunction(() => !(document.getElementById('replay-slider') as HTMLInputElement).disabled, null, { timeout: 10_000 });
      // Half-way through the run: 1,000 m.
      const halfSec = Math.round((runStartMs + (RUN_SEC / 2) * 1000 - STARTS_AT_MS) / 1000);
      await page.$eval(
        '#replay-slider',
        (slider, value) => {
          (slider as HTMLInputElement).value = String(value);
          slider.dispatchEvent(new Event('input', { bubbles: true }));
        },
        halfSec,
      );
      await expect.poll(() => page.textContent('#followed-distance')).toMatch(/^(0\.9[5-9]|1\.0[0-5]) km of 10 km$/);
      expect(await page.textContent('#replay-time')).toMatch(/into the race\)$/);
      // Their own track up to that moment, drawn on the map.
      await page.waitForFunction(() => Number(document.body.dataset['trackPoints'] ?? 0) > 50, null, { timeout: 10_000 });
      await expect.poll(async () => countPixelsNear(await page.locator('#map').screenshot(), hexToRgb(TRACK_COLOUR)), { timeout: 10_000 }).toBeGreaterThan(20);

      // Play runs the clock on at the chosen speed.
      await page.selectOption('#replay-speed', '300');
      await page.click('#replay-play');
      await expect.poll(async () => Number(await page.evaluate(() => document.body.dataset['replayAtMs'])), { timeout: 10_000 }).toBeGreaterThan(STARTS_AT_MS + (halfSec + 120) * 1000);
      await page.click('#replay-play');

      // Closing the replay is the race as it is now.
      await page.click('#replay-panel summary');
      await expect.poll(() => page.textContent('#followed-distance')).toMatch(/^2\.0\d km of 10 km$/);
      await expectClean(guard);
      await page.close();
    });
  }
});
