// Every page checked with axe-core in Chromium, as it is when in use (a race joined and a runner
// followed, the console logged in, the runner page sharing): no serious or critical violation of
// WCAG 2 A/AA. axe is injected into the page, so this context bypasses the CSP (the other browser
// tests check the CSP itself).
import { chromium as playwright, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '../../shared/protocol.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { seriousViolations } from '../support/axe.ts';
import { testEvent } from '../support/fixtures.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromium } from '../support/requirements.ts';
import { runAlong } from '../support/run-along.ts';
import { TEST_ORGANISER_TOKEN, startTestServer, type TestServer } from '../support/test-server.ts';

const available = chromium().available;
describe.skipIf(!available)('accessibility of every page (axe-core in Chromium)', () => {
  let browser: Browser;
  let context: BrowserContext;
  let server: TestServer;
  let event: LoadedEvent;

  beforeAll(async () => {
    event = await testEvent(Date.now() - 30 * 60_000);
    server = await startTestServer({ event, tickMs: 100 });
    await runAlong(server.url, event.races[0]!, 0, 4800, 5200, Date.now() - 5000);
    await runAlong(server.url, event.races[0]!, 1, 3800, 4200, Date.now() - 5000);
    browser = await playwright.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 1200, height: 800 } });
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  it('the spectator page, with the results open and a runner followed (from the leaders, with the keyboard)', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/?race=street-10k`);
    await page.waitForFunction(() => Number(document.body.dataset['runnersDrawn'] ?? 0) >= 2, null, { timeout: 20_000 });
    // The leaders are reached and opened with the keyboard.
    await page.focus('#leaders button');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#followed-name')).toBe('S1 Runner s 1');
    await page.click('#results-panel summary');
    await page.click('#results-body button[aria-label^="Follow S2"]');
    await expect.poll(() => page.textContent('#followed-name')).toBe('S2 Runner s 2');
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('the organiser console, logged in', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/organiser.html`);
    expect(await seriousViolations(page)).toEqual([]);
    await page.fill('#token', TEST_ORGANISER_TOKEN);
    await page.click('#login button');
    await page.waitForFunction(() => document.body.dataset['ready'] === '1', null, { timeout: 20_000 });
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('the organiser console on a 390 px phone: no sideways scroll, every form within the screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await phone.newPage();
    await page.goto(`${server.url}/organiser.html`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.fill('#token', TEST_ORGANISER_TOKEN);
    await page.click('#login button');
    await page.waitForFunction(() => document.body.dataset['ready'] === '1', null, { timeout: 20_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // Every control of every form can be seen whole without scrolling sideways.
    const outside = await page.$$eval('form input, form select, form button', (controls) =>
      controls.filter((c) => (c as HTMLElement).offsetParent !== null && c.getBoundingClientRect().right > 390).map((c) => c.id || c.textContent),
    );
    expect(outside).toEqual([]);
    await page.fill('#move-participant', 's-3');
    await page.selectOption('#move-race', 'track-10k');
    await page.click('#move button');
    await expect.poll(() => page.textContent('#message')).toBe('s-3 moved to track-10k');
    await phone.close();
  });

  it('the runner page and the setup page', async () => {
    const token = event.races[0]!.participants[2]!.deviceToken;
    const page = await context.newPage();
    await page.goto(`${server.url}/runner.html#token=${token}`);
    await page.waitForFunction(() => document.getElementById('runner-name')?.textContent !== '', null, { timeout: 20_000 }).catch(() => undefined);
    expect(await seriousViolations(page)).toEqual([]);
    await page.goto(`${server.url}/setup.html#token=${token}`);
    await page.locator('#runner-link').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('the page of a live link', async () => {
    const token = event.races[0]!.participants[0]!.deviceToken;
    const response = await fetch(`${server.url}/api/device/share-links`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ validForHours: 1 }),
    });
    const body = (await response.json()) as Ack<{ path: string }>;
    if (!body.ok) throw new Error(body.message);
    const page = await context.newPage();
    await page.goto(`${server.url}${body.data.path}`);
    await page.waitForFunction(() => document.body.dataset['runnerDrawn'] === '1', null, { timeout: 20_000 });
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });
});
