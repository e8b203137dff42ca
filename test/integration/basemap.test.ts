// The self-hosted basemap on the server's side: the archive is checked before the server starts,
// served in pieces (HTTP range requests) and read back by the pmtiles reader the pages use; the
// pages are told where it is and never the file's path; the start-up banner says which map
// source is in use; the Content Security Policy lets the maps reach only the configured hosts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PMTiles, TileType } from 'pmtiles';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../shared/protocol.ts';
import { BasemapError, checkPmtilesArchive, originOf, PMTILES_PATH } from '../../server/basemap.ts';
import { startServerProcess, writeEventFile, type ServerProcess } from '../../simulations/server-process.ts';
import { testEvent, testEventJson } from '../support/fixtures.ts';
import { writePmtilesArchive } from '../support/pmtiles-archive.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

let dir: string;
let archive: string;
const servers: TestServer[] = [];
const processes: ServerProcess[] = [];
const bounds = { west: 51.3, south: 35.68, east: 51.34, north: 35.72 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'basemap-'));
  archive = join(dir, 'city.pmtiles');
  const street = { type: 'Feature' as const, properties: { kind: 'major_road' }, geometry: { type: 'LineString' as const, coordinates: [[51.31, 35.69], [51.33, 35.71]] } };
  await writePmtilesArchive(archive, [{ name: 'roads', features: [street] }], { bounds, minZoom: 0, maxZoom: 14, attribution: '© OpenStreetMap contributors' });
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  await Promise.all(processes.splice(0).map((p) => p.kill()));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the PMTiles basemap, served', () => {
  it('answers range requests, and the pmtiles reader finds the tiles through them', async () => {
    const server = await startTestServer({ event: await testEvent(Date.now()), basemap: { kind: 'pmtiles', file: archive, attribution: '© OSM', glyphsUrl: null } });
    servers.push(server);
    const head = await fetch(`${server.url}${PMTILES_PATH}`, { headers: { range: 'bytes=0-126' } });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-range')).toMatch(/^bytes 0-126\//);
    const bytes = Buffer.from(await head.arrayBuffer());
    expect(bytes.length).toBe(127);
    expect(bytes.toString('latin1', 0, 7)).toBe('PMTiles');
    const reader = new PMTiles(`${server.url}${PMTILES_PATH}`);
    const header = await reader.getHeader();
    expect(header).toMatchObject({ specVersion: 3, tileType: TileType.Mvt, minZoom: 0, maxZoom: 14 });
    // The tile of zoom 14 under the street's middle holds it.
    const n = 2 ** 14;
    const x = Math.floor(((51.32 + 180) / 360) * n);
    const rad = (35.7 * Math.PI) / 180;
    const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n);
    const tile = await reader.getZxy(14, x, y);
    expect(tile?.data.byteLength).toBeGreaterThan(10);
    expect(await reader.getZxy(14, 0, 0)).toBeUndefined();
    // The pages learn the archive's address and attribution, not where it is on the server's disk.
    const config = (await (await fetch(`${server.url}/api/config`)).json()) as { data: { basemap: unknown } };
    expect(config.data.basemap).toEqual({ kind: 'pmtiles', url: PMTILES_PATH, attribution: '© OSM', glyphsUrl: null });
    expect(JSON.stringify(config)).not.toContain(dir);
  });

  it('is not there when no archive is configured', async () => {
    const server = await startTestServer({ event: await testEvent(Date.now()) });
    servers.push(server);
    const response = await fetch(`${server.url}${PMTILES_PATH}`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: ErrorCodes.NOT_FOUND });
  });

  it('lets the maps reach the configured style host and no other', async () => {
    const styled = await startTestServer({ event: await testEvent(Date.now()), basemap: { kind: 'style', url: 'https://tiles.example.org/styles/city.json' } });
    const plain = await startTestServer({ event: await testEvent(Date.now()) });
    servers.push(styled, plain);
    const connectSrc = async (url: string) => /connect-src ([^;]*)/.exec((await fetch(url)).headers.get('content-security-policy') ?? '')?.[1];
    expect(await connectSrc(`${styled.url}/`)).toBe("'self' https://tiles.example.org");
    expect(await connectSrc(`${plain.url}/`)).toBe("'self'");
    // A subdomain placeholder in a fonts URL is any subdomain of that host.
    expect(originOf('https://{s}.fonts.example.org/{fontstack}/{range}.pbf')).toEqual(['https://*.fonts.example.org']);
    expect(originOf('/fonts/{fontstack}/{range}.pbf')).toEqual([]);
  });

  it('serves an archive from a folder whose name starts with a dot, and answers a range past its end 416', async () => {
    const hidden = join(dir, '.maps');
    await (await import('node:fs/promises')).mkdir(hidden, { recursive: true });
    const copy = join(hidden, 'city.pmtiles');
    await (await import('node:fs/promises')).copyFile(archive, copy);
    const server = await startTestServer({ event: await testEvent(Date.now()), basemap: { kind: 'pmtiles', file: copy, attribution: '© OSM', glyphsUrl: null } });
    servers.push(server);
    expect((await fetch(`${server.url}${PMTILES_PATH}`, { headers: { range: 'bytes=0-126' } })).status).toBe(206);
    expect((await fetch(`${server.url}${PMTILES_PATH}`, { headers: { range: 'bytes=99999999-' } })).status).toBe(416);
  });
});

describe('the archive, checked before the server starts', () => {
  it('takes a vector PMTiles archive and refuses a missing file, another format and raster tiles, saying why', async () => {
    await expect(checkPmtilesArchive(archive)).resolves.toBeUndefined();
    await expect(checkPmtilesArchive(join(dir, 'missing.pmtiles'))).rejects.toThrow(/MAP_PMTILES: cannot read .*ENOENT/);
    const text = join(dir, 'not-an-archive.pmtiles');
    await writeFile(text, 'x'.repeat(200));
    await expect(checkPmtilesArchive(text)).rejects.toThrow(BasemapError);
    await expect(checkPmtilesArchive(text)).rejects.toThrow(/is not a PMTiles archive/);
    const raster = join(dir, 'raster.pmtiles');
    const bytes = Buffer.from(await (await import('node:fs/promises')).readFile(archive));
    bytes[99] = 2; // PNG tiles
    await writeFile(raster, bytes);
    await expect(checkPmtilesArchive(raster)).rejects.toThrow(/raster or unknown tiles/);
  });

  it('npm start says which map source is in use, and does not start on a file that is not an archive', async () => {
    const eventFile = writeEventFile(testEventJson(Date.now()));
    const server = await startServerProcess(eventFile, { MAP_PMTILES: archive, MAPBOX_TOKEN: 'pk.unused' });
    processes.push(server);
    expect(server.stdout()).toContain(`Map:             PMTiles archive ${archive}, served at ${PMTILES_PATH}`);
    expect(server.stdout()).toContain('also set, not used: MAPBOX_TOKEN');
    const text = join(dir, 'not-an-archive.pmtiles');
    await writeFile(text, 'x'.repeat(200));
    await expect(startServerProcess(eventFile, { MAP_PMTILES: text })).rejects.toThrow(/MAP_PMTILES: .* is not a PMTiles archive/);
  });
});
