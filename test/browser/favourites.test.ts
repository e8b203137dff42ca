// Favourites on the spectator page, in headless Chromium against a running server: a runner made
// a favourite is kept in the browser (a reload keeps them), drawn in the favourites' colour, and
// while the page is open a browser notification says when they pass a timing point.
import { fileURLToPath } from 'node:url';
import { chromium as playwright, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../server/core/clock.ts';
import { parseEvent, type LoadedEvent } from '../../server/event/event-file.ts';
import { FAVOURITE_COLOUR } from '../../web/src/colours.ts';
import { eventSecrets, expectClean, guardPage } from '../support/browser-guard.ts';
import { testEventJson } from '../support/fixtures.ts';
import { countPixelsNear, hexToRgb } from '../support/pixels.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromium } from '../support/requirements.ts';
import { runAlong as runAlongCourse } from '../support/run-along.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const available = chromium().available;
const clock = new ManualClock(Date.now());
const STARTS_AT_MS = clock.nowMs() - 60 * 60_000;

describe.skipIf(!available)('favourites on the spectator page (Chromium)', () => {
  let browser: Browser;
  let server: TestServer;
  let event: LoadedEvent;

  /** A runner of the street race on from `fromM` to `toM` at 4 m/s, the last fix `endSecAgo` before now. */
  const runAlong = (participantIndex: number, fromM: number, toM: number, endSecAgo: number) =>
    runAlongCourse(server.url, event.races[0]!, participantIndex, fromM, toM, clock.nowMs() - endSecAgo * 1000);

  beforeAll(async () => {
    event = await parseEvent(testEventJson(STARTS_AT_MS), { source: 'favourites test', baseDir: fileURLToPath(new URL('../../server/demo/', import.meta.url)) });
    server = await startTestServer({ event, clock, tickMs: 100 });
    // s-1 is 200 m short of 5 km and s-2 600 m (apart on the map); each runs on at 4 m/s when
    // their test sends the rest, ending now (so s-1 was last seen 100 s ago, s-2 200 s ago).
    await runAlong(0, 4400, 4800, 100);
    await runAlong(1, 4000, 4400, 200);
    browser = await playwright.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  // (A runner of its own for each viewport: each test passes alone.)
  for (const [viewportName, viewport, index] of [
    ['desktop', { width: 1000, height: 700 }, 0],
    ['phone', { width: 390, height: 844 }, 1],
  ] as const) {
    it(`keeps a favourite across a reload, draws them in its colour, and notifies when they pass 5 km (${viewportName})`, async () => {
      const bib = `S${index + 1}`;
      const label = `${bib} Runner s ${index + 1}`;
      const context = await browser.newContext({ viewport });
      await context.grantPermissions(['notifications'], { origin: server.url });
      // The notifications the page shows, as the browser's own Notification makes them.
      await context.addInitScript(() => {
        const Real = window.Notification;
        const shown: Array<{ title: string; body: string }> = [];
        (window as unknown as { shownNotifications: typeof shown }).shownNotifications = shown;
        class Recorded extends Real {
          constructor(title: string, options?: NotificationOptions) {
            super(title, options);
            shown.push({ title, body: options?.body ?? '' });
          }
        }
        Object.defineProperty(window, 'Notification', { value: Recorded, configurable: true });
      });
      const page = await context.newPage();
      const guard = await guardPage(page, eventSecrets(event));
      await page.goto(`${server.url}/?race=street-10k`);
      await page.waitForFunction(() => Number(document.body.dataset['runnersDrawn'] ?? 0) >= 1, null, { timeout: 20_000 });
      await page.fill('#follow-input', bib);
      await page.press('#follow-input', 'Enter');
      await expect.poll(() => page.textContent('#followed-name')).toBe(label);
      await page.click('#favourite-toggle');
      // (The page draws on its next frame: waited for, not read at once.)
      await expect.poll(() => page.getAttribute('#favourite-toggle', 'aria-pressed')).toBe('true');
      await expect.poll(() => page.textContent('#favourites-list')).toContain(`${label} · Street 10 km`);

      // Kept in this browser: after a reload, still a favourite, and drawn in the favourites' colour.
      await page.reload();
      await page.waitForFunction(() => Number(document.body.dataset['runnersDrawn'] ?? 0) >= 1, null, { timeout: 20_000 });
      expect(await page.textContent('#favourites-list')).toContain(label);
      await expect.poll(async () => countPixelsNear(await page.locator('#map').screenshot(), hexToRgb(FAVOURITE_COLOUR)), { timeout: 10_000 }).toBeGreaterThan(20);

      // They run on past 5 km: a notification while the page is open, and a line on the page.
      await runAlong(index, index === 0 ? 4820 : 4420, 5200, 0);
      await expect
        .poll(() => page.evaluate(() => (window as unknown as { shownNotifications: Array<{ title: string; body: string }> }).shownNotifications), { timeout: 10_000 })
        .toEqual([{ title: label, body: expect.stringMatching(/^passed 5 km in (\d+:)?\d+:\d\d$/) as unknown as string }]);
      expect(await page.textContent('#favourite-news')).toContain(`${label}: passed 5 km in`);
      await expectClean(guard);
      await context.close();
    });
  }
});
