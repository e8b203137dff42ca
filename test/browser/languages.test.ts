// Every page in Persian and English, in Chromium: the language from the browser, right to left for
// Persian, Persian digits (or Latin ones, if chosen), 24-hour times, and a switch back to English;
// kilometres or miles; the Persian pages pass the same axe-core check as the others.
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { seriousViolations } from '../support/axe.ts';
import { testEvent } from '../support/fixtures.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromium } from '../support/requirements.ts';
import { runAlong } from '../support/run-along.ts';
import { TEST_ORGANISER_TOKEN, connectDevice, connected, startTestServer, type TestServer } from '../support/test-server.ts';

const available = chromium().available;

describe.skipIf(!available)('the spectator page in Persian and English (Chromium)', () => {
  let browser: Browser;
  let server: TestServer;
  let event: LoadedEvent;

  beforeAll(async () => {
    event = await testEvent(Date.now() - 30 * 60_000);
    server = await startTestServer({ event, tickMs: 100 });
    await runAlong(server.url, event.races[0]!, 0, 4800, 5200, Date.now() - 5000);
    browser = await playwright.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const followS1 = async (page: Page) => {
    await page.goto(`${server.url}/?race=street-10k`);
    await page.waitForFunction(() => Number(document.body.dataset['runnersDrawn'] ?? 0) >= 1, null, { timeout: 20_000 });
    await page.fill('#follow-input', 'S1');
    await page.press('#follow-input', 'Enter');
    await expect.poll(() => page.textContent('#followed-name')).toBe('S1 Runner s 1');
  };

  it('is in Persian for a browser set to Persian: right to left, Persian digits, 24-hour times; then Latin digits, then English', async () => {
    const context = await browser.newContext({ locale: 'fa-IR', viewport: { width: 1000, height: 760 }, bypassCSP: true });
    const page = await context.newPage();
    await followS1(page);
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(['fa', 'rtl']);
    expect(await page.textContent('#results-panel summary span')).toBe('نتایج');
    expect(await page.textContent('h2[data-i18n="leaders"]')).toBe('پیشتازان');
    // About 5.2 km of 10: Persian digits and decimal separator.
    await expect.poll(() => page.textContent('#followed-distance')).toMatch(/^۵٫[۰-۹]{2} کیلومتر از ۱۰ کیلومتر$/);
    expect(await page.textContent('#followed-status')).toBe('در مسیر');
    // The server's own timing point names ("5 km") in the page's language too.
    await expect.poll(() => page.textContent('#followed-splits-body tr td')).toBe('۵ کیلومتر');
    // The expected finish, in 24-hour time with Persian digits.
    await expect.poll(() => page.textContent('#followed-eta')).toMatch(/^رسیدن به پایان، پیش‌بینی: [۰-۲][۰-۹]:[۰-۵][۰-۹]:[۰-۵][۰-۹] \(/);
    // The same axe-core check as every page.
    expect(await seriousViolations(page)).toEqual([]);
    // Names the event file gives in Persian too: the race's, and a runner's, found by it.
    expect(await page.textContent('#race-select option[value="street-10k"]')).toBe('۱۰ کیلومتر خیابانی');
    await page.fill('#follow-input', 'رضایی');
    await page.press('#follow-input', 'Enter');
    await expect.poll(() => page.textContent('#followed-name')).toBe('S2 سارا رضایی');

    // Latin digits, kept across the reload the choice makes.
    await Promise.all([page.waitForEvent('load'), page.selectOption('#digits-select', 'latin')]);
    // (The reloaded page knows the runners once its snapshot is in.)
    await page.waitForFunction(() => Number(document.body.dataset['runnersDrawn'] ?? 0) >= 1, null, { timeout: 20_000 });
    await page.fill('#follow-input', 'S1');
    await page.press('#follow-input', 'Enter');
    await expect.poll(() => page.textContent('#followed-distance')).toMatch(/^5\.\d\d کیلومتر از 10 کیلومتر$/);

    // English, left to right.
    await Promise.all([page.waitForEvent('load'), page.selectOption('#language-select', 'en')]);
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await page.evaluate(() => document.documentElement.dir)).toBe('ltr');
    expect(await page.textContent('#results-panel summary span')).toBe('Results');
    await context.close();
  });

  it('has the runner page in Persian for a phone set to Persian', async () => {
    const context = await browser.newContext({ locale: 'fa-IR', viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/runner.html#token=${event.races[0]!.participants[1]!.deviceToken}`);
    // Her name as the event file gives it in Persian, and her race's.
    await expect.poll(() => page.textContent('#who')).toBe('S2 سارا رضایی');
    expect(await page.textContent('#race')).toBe('۱۰ کیلومتر خیابانی');
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(['fa', 'rtl']);
    expect(await page.textContent('#share')).toBe('شروع ارسال موقعیت');
    expect(await page.textContent('#sos')).toBe('کمک – خبر دادن به برگزارکنندگان');
    await expect.poll(() => page.textContent('#connection')).toBe('متصل');
    await context.close();
  });

  it('is in English for a browser set to English', async () => {
    const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await followS1(page);
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(['en', 'ltr']);
    await expect.poll(() => page.textContent('#followed-distance')).toMatch(/^5\.\d\d km of 10 km$/);
    expect(await page.isHidden('#digits-label')).toBe(true);
    await context.close();
  });
  it('has the organiser console in Persian: right to left, its words, Persian digits and 24-hour times in the alerts', async () => {
    // An SOS, so that the console has an alert with a time to show.
    const device = connectDevice(server.url, event.races[0]!.participants[2]!.deviceToken);
    await connected(device);
    const sos = await device.emitWithAck('sos', { recordedAtMs: Date.now() });
    device.close();
    expect(sos.ok).toBe(true);
    // (axe is injected into the page: this context bypasses the CSP, which the other browser tests check.)
    const context = await browser.newContext({ locale: 'fa-IR', viewport: { width: 390, height: 844 }, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${server.url}/organiser.html#token=${TEST_ORGANISER_TOKEN}`);
    await page.waitForFunction(() => document.body.dataset['ready'] === '1', null, { timeout: 20_000 });
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(['fa', 'rtl']);
    expect(await page.textContent('#event-name')).toMatch(/: میز برگزارکننده$/);
    expect(await page.textContent('h2[data-i18n="org.alerts"]')).toBe('هشدارها');
    expect(await page.textContent('h2[data-i18n="org.sections"]')).toBe('بخش‌های مسیر');
    expect(await page.textContent('#races li')).toMatch(/، ۳ دونده$/);
    await expect.poll(() => page.textContent('#alerts li')).toMatch(/^[۰-۲][۰-۹]:[۰-۵][۰-۹] SOS: S3 Runner s 3, street-10k/);
    expect(await page.textContent('#alerts li button')).toBe('دیدم');
    // Still no sideways scroll on a phone, with the longer words and the language switch.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it('has the setup page and a live link in Persian, with dates in Persian digits', async () => {
    const context = await browser.newContext({ locale: 'fa-IR', viewport: { width: 1000, height: 900 }, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${server.url}/setup.html#token=${event.races[0]!.participants[0]!.deviceToken}`);
    await page.waitForFunction(() => document.body.dataset['ready'] === '1', null, { timeout: 20_000 });
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(['fa', 'rtl']);
    expect(await page.textContent('#who')).toBe('S1 Runner s 1: راه‌اندازی ردیاب');
    expect(await page.textContent('h2[data-i18n="setup.liveLinks"]')).toBe('پیوندهای زنده برای دوستان');
    expect(await page.textContent('dd[data-i18n="setup.seconds5"]')).toBe('۵ ثانیه');
    await page.click('#new-link');
    // (The hour has one digit before 10:00: the test must pass at any time of day.)
    await expect.poll(() => page.textContent('#links li')).toMatch(/^پیوند \S+، معتبر تا .*[۰-۹]{1,2}:[۰-۹]{2}/);
    expect(await page.textContent('#links li button')).toBe('لغو');
    expect(await seriousViolations(page)).toEqual([]);
    const followPath = new URL((await page.getAttribute('#created-link', 'href'))!).pathname + new URL((await page.getAttribute('#created-link', 'href'))!).hash;

    // The follow page the link opens, in Persian, then in miles.
    const follow = await context.newPage();
    await follow.goto(`${server.url}${followPath}`);
    await follow.waitForFunction(() => document.body.dataset['runnerDrawn'] === '1', null, { timeout: 20_000 });
    expect(await follow.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(['fa', 'rtl']);
    expect(await follow.textContent('dt[data-i18n="follow.linkValidUntil"]')).toBe('پیوند معتبر تا');
    await expect.poll(() => follow.textContent('#distance')).toMatch(/^۵٫[۰-۹]{2} کیلومتر از ۱۰ کیلومتر$/);
    expect(await follow.textContent('#expires')).toMatch(/[۰-۹]{1,2}:[۰-۵][۰-۹]/);
    expect(await seriousViolations(follow)).toEqual([]);
    await Promise.all([follow.waitForEvent('load'), follow.selectOption('#units-choice', 'mi')]);
    await follow.waitForFunction(() => document.body.dataset['runnerDrawn'] === '1', null, { timeout: 20_000 });
    // About 5.2 km: 3.2 miles of 6.21.
    await expect.poll(() => follow.textContent('#distance')).toMatch(/^۳٫[۰-۹]{2} مایل از ۶٫۲۱ مایل$/);
    await context.close();
  });

  it('shows miles on the spectator page once chosen, and remembers it', async () => {
    const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1000, height: 760 } });
    const page = await context.newPage();
    await followS1(page);
    await Promise.all([page.waitForEvent('load'), page.selectOption('#units-select', 'mi')]);
    await page.waitForFunction(() => Number(document.body.dataset['runnersDrawn'] ?? 0) >= 1, null, { timeout: 20_000 });
    await page.fill('#follow-input', 'S1');
    await page.press('#follow-input', 'Enter');
    await expect.poll(() => page.textContent('#followed-distance')).toMatch(/^3\.\d\d mi of 6\.21 mi$/);
    expect(await page.textContent('#stand-label')).toBe('Where I stand, mi');
    // Splits' paces per mile.
    await expect.poll(() => page.textContent('#followed-splits-body')).toMatch(/\d:\d\d\/mi/);
    await context.close();
  });
});
