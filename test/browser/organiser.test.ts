// The organiser console in headless Chromium: every race (private included), and a road section
// turning "ready to reopen" on screen only after the last runner and then the sweeper pass it.
// The page must break no CSP directive and send no secret in a query string.
import { fileURLToPath } from 'node:url';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '../../shared/protocol.ts';
import { parseEvent, type LoadedEvent } from '../../server/event/event-file.ts';
import { eventSecrets, expectClean, guardPage } from '../support/browser-guard.ts';
import { testEventJson } from '../support/fixtures.ts';
import { countPixelsNear, hexToRgb } from '../support/pixels.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromium } from '../support/requirements.ts';
import { TEST_ORGANISER_TOKEN, connectDevice, connected, startTestServer, type TestServer } from '../support/test-server.ts';

const available = chromium().available;

describe.skipIf(!available)('organiser console (Chromium)', () => {
  let browser: Browser;
  let server: TestServer;
  let event: LoadedEvent;

  beforeAll(async () => {
    // The street race started 20 minutes ago; its third participant is the sweeper.
    const json = testEventJson(Date.now() - 20 * 60_000);
    const street = json.races[0] as { participants: Array<Record<string, unknown>> };
    street.participants[2]!['role'] = 'sweeper';
    event = await parseEvent(json, { source: 'test', baseDir: fileURLToPath(new URL('../../server/demo/', import.meta.url)) });
    server = await startTestServer({ event, tickMs: 100 });
    browser = await playwright.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Sends one runner a few fixes that walk them to `toM` along the street race, ending `agoMs` ago. */
  async function move(index: number, toM: number, agoMs: number): Promise<void> {
    const race = event.races[0]!;
    const socket = connectDevice(server.url, race.participants[index]!.deviceToken);
    await connected(socket);
    for (let k = 4; k >= 0; k--) {
      const [lon, lat] = race.course.path.pointAtRaceDistance(toM - k * 20);
      const ack = await (socket as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> }).emitWithAck('position', {
        lon,
        lat,
        recordedAtMs: Date.now() - agoMs - k * 5000,
        accuracyM: 5,
        speedMps: 4,
      });
      if (!ack.ok) throw new Error(ack.message);
    }
    socket.disconnect();
  }

  const stateOf = (page: Page, sectionId: string) =>
    page.evaluate((id) => document.querySelector<HTMLElement>(`tr[data-section="${id}"]`)?.dataset['state'], sectionId);

  it('asks for the token, then shows every race and the sections turning ready behind the last runner and the sweeper', async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const guard = await guardPage(page, [TEST_ORGANISER_TOKEN, ...eventSecrets(event), 'not-the-token-at-all']);
    await page.goto(`${server.url}/organiser.html`);
    await page.fill('#token', 'not-the-token-at-all');
    await page.click('#login button');
    await expect.poll(() => page.textContent('#message')).toMatch(/Could not open the console/);

    await page.fill('#token', TEST_ORGANISER_TOKEN);
    await page.click('#login button');
    await page.waitForFunction(() => document.body.dataset['ready'] === '1', null, { timeout: 20_000 });
    const races = await page.$$eval('#races li', (items) => items.map((li) => li.textContent ?? ''));
    expect(races).toHaveLength(3);
    expect(races.some((r) => r.includes('(private)'))).toBe(true);
    expect(await stateOf(page, 'street-10k-km1')).toBe('waiting');

    // The two runners go past km 1; the sweeper is still on it.
    await move(0, 1400, 0);
    await move(1, 1300, 0);
    await move(2, 600, 300_000);
    await expect.poll(() => stateOf(page, 'street-10k-km1'), { timeout: 10_000 }).toBe('clearBehindLast');
    expect(await page.textContent('tr[data-section="street-10k-km1"] button')).toBe('Reopen');
    expect(await page.isDisabled('tr[data-section="street-10k-km1"] button')).toBe(true);

    // The sweeper passes: ready to reopen, on screen.
    await move(2, 1100, 0);
    await expect.poll(() => stateOf(page, 'street-10k-km1'), { timeout: 10_000 }).toBe('readyToReopen');
    expect(await page.textContent('tr[data-section="street-10k-km1"] .state')).toBe('ready to reopen');
    expect(await stateOf(page, 'street-10k-km2')).toBe('inUse');
    await page.click('tr[data-section="street-10k-km1"] button');
    await expect.poll(() => stateOf(page, 'street-10k-km1'), { timeout: 10_000 }).toBe('reopened');
    await page.waitForFunction(() => Number(document.body.dataset['runnersDrawn'] ?? 0) >= 3, null, { timeout: 10_000 });

    // Changes from the console: a runner moved, a race made public, a runner out of the race.
    await page.fill('#move-participant', 't-1');
    await page.selectOption('#move-race', 'street-10k');
    await page.click('#move button');
    await expect.poll(() => page.textContent('#message')).toBe('t-1 moved to street-10k');
    await page.selectOption('#change-race', 'loop-32k');
    expect(await page.isChecked('#change-private')).toBe(true);
    await page.uncheck('#change-private');
    await page.click('#race-change button');
    await expect.poll(() => page.textContent('#message')).toBe('loop-32k: changed');
    const listed = (await (await fetch(`${server.url}/api/races`)).json()) as Ack<{ races: Array<{ raceId: string }> }>;
    expect(listed.ok && listed.data.races.map((r) => r.raceId)).toContain('loop-32k');
    await page.fill('#outcome-participant', 's-1');
    await page.click('#outcome button');
    await expect.poll(() => page.textContent('#message')).toBe('s-1: dnf');
    const audit = (await (await fetch(`${server.url}/api/organiser/audit`, { headers: { authorization: `Bearer ${TEST_ORGANISER_TOKEN}` } })).json()) as Ack<{
      entries: Array<{ action: string }>;
    }>;
    expect(audit.ok && audit.data.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['section reopened', 'participant moved', 'race made public', 'participant dnf']),
    );
    await expectClean(guard);
    await page.close();
  });

  it('opens at once from a link with the token in its fragment', async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const guard = await guardPage(page, [TEST_ORGANISER_TOKEN, ...eventSecrets(event)]);
    await page.goto(`${server.url}/organiser.html#token=${encodeURIComponent(TEST_ORGANISER_TOKEN)}`);
    await page.waitForFunction(() => document.body.dataset['ready'] === '1', null, { timeout: 20_000 });
    expect(await page.isHidden('#login')).toBe(true);
    expect(await page.$$eval('#races li', (items) => items.length)).toBe(3);
    await expectClean(guard);
    await page.close();
  });
  it('zooms to one race from its name in the list, and back to all', async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    await page.goto(`${server.url}/organiser.html#token=${TEST_ORGANISER_TOKEN}`);
    await page.waitForFunction(() => document.body.dataset['ready'] === '1', null, { timeout: 20_000 });
    // The track, in the second race colour: a small mark beside the street course at first.
    const trackPixels = async () => countPixelsNear(await page.locator('#map').screenshot(), hexToRgb('#e8590c'), 30);
    await expect.poll(trackPixels, { timeout: 10_000 }).toBeGreaterThan(0);
    const overview = await trackPixels();
    await page.click('#races button[data-race="track-10k"]');
    await expect.poll(trackPixels, { timeout: 10_000 }).toBeGreaterThan(Math.max(2000, overview * 5));
    await page.click('#show-all');
    await expect.poll(trackPixels, { timeout: 10_000 }).toBeLessThan(overview * 2 + 50);
    await page.close();
  });
});
