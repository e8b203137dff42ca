// The results table, splits, the expected arrival and the search across races on the spectator
// page, in headless Chromium against a running server, on a desktop and on a 390 px phone: the
// table follows the race live, a runner who crossed the line shows their finish time and splits,
// a runner still racing when they are expected where the spectator stands (typed, or clicked on
// the map), and a runner in another race is found by bib and opened. The page must not scroll
// sideways on the phone.
import { fileURLToPath } from 'node:url';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RunnerStatus, type Ack } from '../../shared/protocol.ts';
import { ManualClock } from '../../server/core/clock.ts';
import { parseEvent, type LoadedEvent } from '../../server/event/event-file.ts';
import { COURSE_COLOUR } from '../../web/src/colours.ts';
import { eventSecrets, expectClean, guardPage } from '../support/browser-guard.ts';
import { hexToRgb, pixelNear } from '../support/pixels.ts';
import { testEventJson } from '../support/fixtures.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromium } from '../support/requirements.ts';
import { runAlong as runAlongCourse } from '../support/run-along.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const available = chromium().available;
const clock = new ManualClock(Date.now());
const STARTS_AT_MS = clock.nowMs() - 60 * 60_000;

describe.skipIf(!available)('results on the spectator page (Chromium)', () => {
  let browser: Browser;
  let server: TestServer;
  let event: LoadedEvent;

  /** A runner of the street race on from `fromM` to `toM` at 4 m/s, the last fix recorded now. */
  const runAlong = (participantIndex: number, fromM: number, toM: number) => runAlongCourse(server.url, event.races[0]!, participantIndex, fromM, toM, clock.nowMs());

  beforeAll(async () => {
    const json = testEventJson(STARTS_AT_MS, 5);
    const street = json.races[0]!.participants as Array<Record<string, unknown>>;
    street.forEach((p, i) => (p['categories'] = i % 2 === 0 ? ['W', 'W35'] : ['M']));
    (json.races[0] as Record<string, unknown>)['pointsOfInterest'] = [{ name: 'Water 5 km', kind: 'water', distanceM: 5000 }];
    event = await parseEvent(json, { source: 'results browser test', baseDir: fileURLToPath(new URL('../../server/demo/', import.meta.url)) });
    server = await startTestServer({ event, clock, tickMs: 100 });
    // s-1 is past 5 km; s-2 behind; s-3 ran from 4.8 km into the line, and their phone stops there.
    await runAlong(0, 4900, 5300);
    await runAlong(1, 4700, 5100);
    await runAlong(2, 4800, 9992);
    // A minute and a half of silence at the line: finished, on the server's tick.
    clock.advance(90_000);
    await vi.waitFor(
      async () => {
        const ack = (await (await fetch(`${server.url}/api/races/street-10k/snapshot`)).json()) as Ack<{ runners: Array<{ status: number }> }>;
        if (!ack.ok || ack.data.runners[2]!.status !== RunnerStatus.finished) throw new Error('S3 not finished yet');
      },
      { timeout: 10_000, interval: 100 },
    );
    browser = await playwright.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const rowsOf = (page: Page) =>
    page.$$eval('#results-body tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));

  // (Each viewport has a runner of its own to bring on live: each test passes alone.)
  for (const [viewportName, viewport, liveIndex] of [
    ['desktop', { width: 1200, height: 800 }, 3],
    ['phone', { width: 390, height: 844 }, 4],
  ] as const) {
    it(`shows the table live, splits and the finish time, an ETA where I stand, and finds a runner in another race (${viewportName})`, async () => {
      const page = await browser.newPage({ viewport });
      const guard = await guardPage(page, eventSecrets(event));
      await page.goto(`${server.url}/?race=street-10k`);
      await page.waitForFunction(() => document.body.dataset['courseDrawn'] === 'street-10k', null, { timeout: 20_000 });
      // The course's furniture: a marker every km, the water station, start and finish; and listed.
      expect(await page.evaluate(() => document.body.dataset['furniture'])).toBe('12');
      expect(await page.textContent('#poi-list')).toBe('Water 5 km · 5 km');
      // The course file has altitudes: the elevation profile, with the runners on it.
      expect(await page.isVisible('#profile')).toBe(true);
      expect(await page.textContent('#profile-range')).toMatch(/^\d+–\d+ m above sea level$/);
      await expect.poll(async () => Number(await page.getAttribute('#profile-runners', 'data-count'))).toBeGreaterThanOrEqual(3);
      await page.click('#results-panel summary');

      // The finisher first, then by the last point passed and when; the runner not seen last, unplaced.
      await expect.poll(async () => (await rowsOf(page)).slice(0, 3).map((r) => [r[0], r[1], r[8]]), { timeout: 10_000 }).toEqual([
        ['1', 'S3', 'finished'],
        ['2', 'S1', 'racing'],
        ['3', 'S2', 'racing'],
      ]);
      const liveBib = `S${liveIndex + 1}`;
      expect((await rowsOf(page)).find((r) => r[1] === liveBib)).toEqual(expect.arrayContaining(['', liveBib, 'not started']));
      const rows = await rowsOf(page);
      expect(rows[0]![7]).toMatch(/^\d+:\d\d:\d\d$/); // the finish time
      // A progress bar per runner: the finisher's is full.
      expect(await page.getAttribute('#results-body tr:first-child progress', 'aria-label')).toBe('100% of the race');
      expect(rows[2]![6]).toMatch(/^\+\d+:\d\d$/); // S2's gap at 5 km

      // One category: placed within it.
      await page.selectOption('#results-category', 'W');
      await expect.poll(async () => (await rowsOf(page)).slice(0, 2).map((r) => [r[0], r[1]])).toEqual([
        ['1 (1)', 'S3'],
        ['2 (2)', 'S1'],
      ]);
      expect((await rowsOf(page)).map((r) => r[1])).not.toContain('S2');
      await page.selectOption('#results-category', '');

      // Live: a runner is seen at 3 km and appears placed, without reloading the page.
      await runAlong(liveIndex, 2800, 3000);
      await expect.poll(async () => (await rowsOf(page)).find((r) => r[1] === liveBib)?.[8], { timeout: 10_000 }).toBe('racing');
      expect((await rowsOf(page)).find((r) => r[1] === liveBib)?.[0]).toMatch(/^\d+$/);

      // A row opened with the keyboard: the finisher's finish time and splits.
      await page.focus('#results-body button[aria-label^="Follow S3"]');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.textContent('#followed-name')).toBe('S3 Runner s 3');
      await expect.poll(() => page.textContent('#followed-finish')).toMatch(/^Finish \d+:\d\d:\d\d\.\d \(position 1\)$/);
      const splits = await page.$$eval('#followed-splits-body tr', (trs) => trs.map((tr) => tr.querySelector('td')?.textContent));
      expect(splits).toEqual(['5 km', 'Finish']);

      // A runner still racing: when they are expected at the finish, and where I stand (7 km).
      await page.click('#results-body button[aria-label^="Follow S1"]');
      await expect.poll(() => page.textContent('#followed-name')).toBe('S1 Runner s 1');
      await expect.poll(() => page.textContent('#followed-eta')).toMatch(/^Expected at the finish \d\d:\d\d:\d\d \(\d\d:\d\d:\d\d–\d\d:\d\d:\d\d\)$/);
      await page.fill('#stand-input', '7');
      await page.press('#stand-input', 'Enter');
      await expect.poll(() => page.textContent('#stand-eta')).toMatch(/^At 7\.00 km: \d\d:\d\d:\d\d \(\d\d:\d\d:\d\d–\d\d:\d\d:\d\d\)$/);
      // A click on the course on the map: the point is taken from the course line nearest the click.
      await page.fill('#stand-input', '');
      expect(pixelNear(await page.locator('#map').screenshot(), hexToRgb(COURSE_COLOUR))).not.toBeNull();
      const box = (await page.locator('#map').boundingBox())!;
      // (The map eases to the runner just followed, and a click on a runner's marker follows
      // them instead: on a loaded machine the pixel seen may have moved under one by the time of
      // the click. Seen afresh and clicked again, as someone would.)
      await expect
        .poll(
          async () => {
            const coursePixel = pixelNear(await page.locator('#map').screenshot(), hexToRgb(COURSE_COLOUR));
            if (coursePixel) await page.mouse.click(box.x + coursePixel.x, box.y + coursePixel.y);
            return page.inputValue('#stand-input');
          },
          { timeout: 15_000 },
        )
        .toMatch(/^\d+\.\d\d$/);
      await expect.poll(() => page.textContent('#stand-eta')).toMatch(/^(At \d+\.\d\d km: \d\d:\d\d:\d\d \(.+\)|Not expected there .*)$/);

      // The page never scrolls sideways, the table scrolls within itself.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);

      // A runner of another race, by bib: their race opens and they are followed.
      await page.fill('#search-input', 'T2');
      await page.press('#search-input', 'Enter');
      await page.locator('#search-list button').first().waitFor({ state: 'visible' });
      expect(await page.textContent('#search-list')).toContain('T2 Runner t 2 · Track 10 km');
      await page.click('#search-list button');
      await page.waitForFunction(() => document.body.dataset['courseDrawn'] === 'track-10k', null, { timeout: 20_000 });
      await expect.poll(() => page.textContent('#followed-name')).toBe('T2 Runner t 2');
      await expectClean(guard);
      await page.close();
    });
  }
});
