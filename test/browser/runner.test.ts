// The runner page in headless Chromium with a fake geolocation: sharing, what the server sees,
// going offline and back (with a reload in between), SOS; the setup page; a live link followed.
// Pages are opened with their secret in the fragment (#token=…, #link=…); every test also checks
// that the page broke no CSP directive and sent no secret in a query string.
import { chromium as playwright, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, ShareLinkInfo } from '../../shared/protocol.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { eventSecrets, expectClean, guardPage, linkTokenOf } from '../support/browser-guard.ts';
import { testEvent } from '../support/fixtures.ts';
import { countPixelsNear, hexToRgb } from '../support/pixels.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromium } from '../support/requirements.ts';
import { TEST_ORGANISER_TOKEN, connectSpectator, connected, startTestServer, type TestServer } from '../support/test-server.ts';
import { COURSE_COLOUR, FOLLOWED_COLOUR } from '../../web/src/colours.ts';

const available = chromium().available;

describe.skipIf(!available)('runner page (Chromium, fake geolocation)', () => {
  let browser: Browser;
  let server: TestServer;
  let event: LoadedEvent;

  beforeAll(async () => {
    event = await testEvent(Date.now() - 10 * 60_000);
    server = await startTestServer({ event, tickMs: 100 });
    browser = await playwright.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const street = () => event.races.find((r) => r.raceId === 'street-10k')!;
  const geolocationAt = (distanceM: number) => {
    const [longitude, latitude] = street().course.path.pointAtRaceDistance(distanceM);
    return { longitude, latitude, accuracy: 5 };
  };

  async function runnerContext(distanceM: number): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    await context.grantPermissions(['geolocation'], { origin: server.url });
    await context.setGeolocation(geolocationAt(distanceM));
    return context;
  }

  /** Moves the fake phone along the course, one step at a time, each taken in by the page before the next. */
  async function run(page: Page, fromM: number, toM: number, stepM: number): Promise<void> {
    for (let m = fromM; m <= toM; m += stepM) {
      const seen = Number((await dataset(page, 'positions')) ?? 0);
      await page.context().setGeolocation(geolocationAt(m));
      await page.waitForFunction((n) => Number(document.body.dataset['positions'] ?? 0) > n, seen, { timeout: 10_000 });
    }
  }

  const dataset = (page: Page, key: string) => page.evaluate((k) => document.body.dataset[k], key);
  const secrets = () => [TEST_ORGANISER_TOKEN, ...eventSecrets(event)];

  it('shares positions and shows the distance, lap and status the server sees; keeps them offline, across a reload', async () => {
    const participant = street().participants[0]!;
    const context = await runnerContext(1500);
    const page = await context.newPage();
    const guard = await guardPage(page, secrets());
    await page.goto(`${server.url}/runner.html#token=${participant.deviceToken}`);
    await page.waitForFunction(() => document.body.dataset['ready'] === '1');
    expect(await page.textContent('#who')).toBe(`${participant.bib} ${participant.name}`);
    await page.click('#share');
    await run(page, 1500, 1560, 10);
    await page.waitForFunction(() => Number(document.body.dataset['distance'] ?? 0) > 1500, null, { timeout: 10_000 });
    expect(await page.textContent('#status')).toBe('on course');
    expect(await page.textContent('#lap')).toBe('1');
    expect(await page.textContent('#distance')).toMatch(/^1\.5\d km$/);

    const distanceBeforeOffline = Number(await dataset(page, 'distance'));

    // Offline: the connection drops and the phone keeps moving.
    await context.setOffline(true);
    server.app.io.of('/device').disconnectSockets(true);
    const loggedBefore = await server.stores.pingLog.count('street-10k');
    await run(page, 1570, 1650, 10);
    await page.waitForFunction(() => Number(document.body.dataset['queued'] ?? 0) >= 5, null, { timeout: 10_000 });
    const queued = Number(await dataset(page, 'queued'));
    expect(await page.textContent('#connection')).toMatch(/offline/);

    // Back online, and the page reloaded before it could send: the queue survives and goes out in order.
    await context.setOffline(false);
    await page.reload();
    await page.waitForFunction(() => document.body.dataset['queued'] === '0', null, { timeout: 15_000 });
    expect(await dataset(page, 'sharing')).toBe('on');
    const logged = (await server.stores.pingLog.read('street-10k')).filter((p) => p.participantId === participant.participantId);
    const afterOffline = logged.slice(-queued - 2).map((p) => p.fix.recordedAtMs);
    expect(afterOffline).toEqual([...afterOffline].sort((a, b) => a - b));
    expect((await server.stores.pingLog.count('street-10k')) - loggedBefore).toBeGreaterThanOrEqual(queued);
    // What the server made of the positions sent after the reload, shown on the page: further on
    // than before going offline (the engine's distance, not the fake phone's, so no exact figure).
    await page.waitForFunction((m) => Number(document.body.dataset['distance'] ?? 0) > m, distanceBeforeOffline, { timeout: 10_000 });
    await expectClean(guard);
    await context.close();
  });

  it('sends an SOS that reaches the organisers', async () => {
    const participant = street().participants[1]!;
    const organiser = connectSpectator(server.url, { organiserToken: TEST_ORGANISER_TOKEN });
    await connected(organiser);
    const alert = new Promise<Alert>((resolve) => organiser.once('alert', resolve));
    const context = await runnerContext(900);
    const page = await context.newPage();
    const guard = await guardPage(page, secrets());
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${server.url}/runner.html#token=${participant.deviceToken}`);
    await page.waitForFunction(() => document.body.dataset['ready'] === '1');
    await page.click('#sos');
    expect(await alert).toMatchObject({ kind: 'sos', participantId: participant.participantId, raceId: 'street-10k', lat: expect.any(Number) });
    await page.waitForFunction(() => document.body.dataset['sos'] === 'sent');
    await expectClean(guard);
    organiser.disconnect();
    await context.close();
  });

  it('refuses a revoked token with a clear message', async () => {
    const context = await runnerContext(900);
    const page = await context.newPage();
    const guard = await guardPage(page, [...secrets(), 'not-a-real-token-at-all']);
    await page.goto(`${server.url}/runner.html#token=not-a-real-token-at-all`);
    await expect.poll(() => page.textContent('#message')).toMatch(/no longer valid/);
    await expectClean(guard);
    await context.close();
  });

  it('shows each app its exact settings and a QR code of the runner page on the setup page', async () => {
    const participant = street().participants[2]!;
    const context = await browser.newContext();
    const page = await context.newPage();
    const guard = await guardPage(page, secrets());
    await page.goto(`${server.url}/setup.html#token=${participant.deviceToken}`);
    await page.waitForFunction(() => document.body.dataset['ready'] === '1');
    expect(await page.textContent('#runner-link')).toBe(`${server.url}/runner.html#token=${participant.deviceToken}`);
    expect(await page.textContent('#traccar-url')).toBe(`${server.url}/ingest/osmand`);
    expect(await page.textContent('#gpslogger-url')).toContain(`id=${participant.deviceToken}&lat=%LAT&lon=%LON&timestamp=%TIMESTAMP&speedMps=%SPD`);
    expect(await page.textContent('#owntracks-user')).toBe(participant.participantId);
    const qr = await page.locator('#qr').screenshot();
    expect(countPixelsNear(qr, [0, 0, 0], 30)).toBeGreaterThan(2000);
    await page.click('#new-link');
    await page.waitForSelector('#created-link:not([hidden])');
    const created = (await page.textContent('#created-link')) ?? '';
    expect(created).toMatch(new RegExp(`^${server.url}/follow\\.html#link=[^&?]+$`));
    guard.addSecrets(linkTokenOf(created));
    await expect.poll(() => page.locator('#links li').count()).toBe(1);
    await expectClean(guard);
    await context.close();
  });

  it('follows one runner through a live link, on the map', async () => {
    const participant = street().participants[0]!;
    const created = await fetch(`${server.url}/api/device/share-links`, {
      method: 'POST',
      headers: { authorization: `Bearer ${participant.deviceToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const { data } = (await created.json()) as { data: ShareLinkInfo };
    expect(data.path).toMatch(/^\/follow\.html#link=/);
    const context = await browser.newContext({ viewport: { width: 900, height: 600 } });
    const page = await context.newPage();
    const guard = await guardPage(page, [...secrets(), linkTokenOf(data.path), 'forged.link']);
    await page.goto(`${server.url}${data.path}`);
    await page.waitForFunction(() => document.body.dataset['runnerDrawn'] === '1', null, { timeout: 15_000 });
    expect(await page.textContent('#who')).toBe(`${participant.bib} ${participant.name}`);
    expect(await page.textContent('#distance')).toMatch(/^1\.\d\d km of 10 km$/);
    // The map paints on its next frames: screenshots until the course and the runner show.
    await expect
      .poll(async () => {
        const png = await page.locator('#map').screenshot();
        return { course: countPixelsNear(png, hexToRgb(COURSE_COLOUR)) > 300, runner: countPixelsNear(png, hexToRgb(FOLLOWED_COLOUR)) > 30 };
      }, { timeout: 10_000 })
      .toEqual({ course: true, runner: true });

    // Another link pasted into the same tab: only the fragment differs, and the page reloads to use it.
    await Promise.all([page.waitForEvent('load'), page.goto(`${server.url}/follow.html#link=${encodeURIComponent('forged.link')}`)]);
    await expect.poll(() => page.textContent('#message'), { timeout: 10_000 }).toMatch(/not valid/);
    await expectClean(guard);
    await context.close();
  });
});
