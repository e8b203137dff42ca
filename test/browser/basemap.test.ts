// The self-hosted basemap: a PMTiles archive built here of a few streets, a lake and the land
// around the test course, served by the server with range requests and drawn by maplibre-gl
// with the Protomaps basemap style under the course. Checked in the picture, and no request may
// leave the machine.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Feature, Geometry } from 'geojson';
import { chromium as playwright, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namedFlavor } from '@protomaps/basemaps';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { COURSE_COLOUR } from '../../web/src/colours.ts';
import { eventSecrets, expectClean, guardPage } from '../support/browser-guard.ts';
import { testEvent } from '../support/fixtures.ts';
import { countPixelsNear, hexToRgb } from '../support/pixels.ts';
import { writePmtilesArchive } from '../support/pmtiles-archive.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromium } from '../support/requirements.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const available = chromium().available;
const flavor = namedFlavor('light');

describe.skipIf(!available)('a self-hosted PMTiles basemap (Chromium)', () => {
  let browser: Browser;
  let server: TestServer;
  let event: LoadedEvent;
  let dir: string;

  beforeAll(async () => {
    event = await testEvent(Date.now() - 10 * 60_000);
    const course = event.races.find((r) => r.raceId === 'street-10k')!.course;
    const lons = course.path.coordinates.map((c) => c[0]);
    const lats = course.path.coordinates.map((c) => c[1]);
    const bounds = { west: Math.min(...lons) - 0.02, south: Math.min(...lats) - 0.02, east: Math.max(...lons) + 0.02, north: Math.max(...lats) + 0.02 };
    const feature = (geometry: Geometry, properties: Record<string, string>): Feature<Geometry, Record<string, string>> => ({ type: 'Feature', properties, geometry });
    const box = (w: number, s: number, e: number, n: number) => ({ type: 'Polygon' as const, coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] });
    // Streets every 0.004 degrees each way (about 400 m), a lake beside the start.
    const streets: Array<Feature<Geometry, Record<string, string>>> = [];
    for (let lon = bounds.west; lon <= bounds.east; lon += 0.004) streets.push(feature({ type: 'LineString', coordinates: [[lon, bounds.south], [lon, bounds.north]] }, { kind: 'major_road' }));
    for (let lat = bounds.south; lat <= bounds.north; lat += 0.004) streets.push(feature({ type: 'LineString', coordinates: [[bounds.west, lat], [bounds.east, lat]] }, { kind: 'major_road' }));
    const [startLon, startLat] = course.path.coordinates[0]!;
    dir = await mkdtemp(join(tmpdir(), 'basemap-'));
    const file = join(dir, 'city.pmtiles');
    await writePmtilesArchive(
      file,
      [
        { name: 'earth', features: [feature(box(bounds.west, bounds.south, bounds.east, bounds.north), { kind: 'earth' })] },
        { name: 'water', features: [feature(box(startLon + 0.002, startLat + 0.002, startLon + 0.006, startLat + 0.005), { kind: 'water' })] },
        { name: 'roads', features: streets },
      ],
      { bounds, minZoom: 0, maxZoom: 15, attribution: '© OpenStreetMap contributors' },
    );
    server = await startTestServer({ event, basemap: { kind: 'pmtiles', file, attribution: '© OpenStreetMap contributors', glyphsUrl: null } });
    browser = await playwright.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('draws the streets, water and land under the course, from the server alone, with the attribution', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const guard = await guardPage(page, eventSecrets(event));
    const rangeAnswers: number[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname === '/tiles/basemap.pmtiles' && response.request().headers()['range']) rangeAnswers.push(response.status());
    });
    await page.goto(`${server.url}/?race=street-10k`);
    await page.waitForFunction(() => document.body.dataset['courseDrawn'] === 'street-10k', null, { timeout: 20_000 });
    expect(await page.evaluate(() => document.body.dataset['mapLibrary'])).toBe('maplibre-gl');
    const shot = () => page.locator('#map').screenshot();
    // Land, a lake and streets in the basemap's colours, and the course over them.
    await expect.poll(async () => countPixelsNear(await shot(), hexToRgb(flavor.water), 12), { timeout: 15_000 }).toBeGreaterThan(300);
    const png = await shot();
    expect(countPixelsNear(png, hexToRgb(flavor.earth), 8)).toBeGreaterThan(50_000);
    expect(countPixelsNear(png, hexToRgb(flavor.major), 6)).toBeGreaterThan(2_000);
    expect(countPixelsNear(png, hexToRgb(COURSE_COLOUR))).toBeGreaterThan(500);
    // Read in pieces, as the pmtiles protocol does.
    expect(rangeAnswers.length).toBeGreaterThan(0);
    expect(rangeAnswers.every((status) => status === 206)).toBe(true);
    await expect.poll(() => page.textContent('.maplibregl-ctrl-attrib')).toContain('OpenStreetMap');
    // Nothing leaves the machine: every request went to this server (or stayed in the page).
    const outside = guard.requests.filter((url) => !url.startsWith(server.url) && !url.startsWith(server.url.replace('http', 'ws')) && !/^(blob|data):/.test(url));
    expect(outside).toEqual([]);
    await expectClean(guard);
    await page.close();
  });
});
