// The map's basemap as the server is configured for it (docs/MAPS.md): which source, what the
// pages are told, which hosts the pages may reach for it, and the check of a PMTiles archive
// before the server starts serving it.
import { open } from 'node:fs/promises';
import type { Basemap } from '../shared/protocol.ts';

export type BasemapSetting =
  | { kind: 'none' }
  | { kind: 'pmtiles'; file: string; attribution: string; glyphsUrl: string | null }
  | { kind: 'style'; url: string }
  | { kind: 'mapbox'; token: string };

/** Where the pages fetch the archive from (HTTP range requests, served by server/http/routes.ts). */
export const PMTILES_PATH = '/tiles/basemap.pmtiles';

export const DEFAULT_ATTRIBUTION = '© OpenStreetMap contributors';

/** What the pages are told: never a file path of the server. */
export function basemapForClient(setting: BasemapSetting): Basemap {
  if (setting.kind === 'pmtiles') return { kind: 'pmtiles', url: PMTILES_PATH, attribution: setting.attribution, glyphsUrl: setting.glyphsUrl };
  return setting;
}

/** The hosts besides the server itself that the pages' maps talk to (for the Content Security Policy). */
export function basemapHosts(setting: BasemapSetting): string[] {
  switch (setting.kind) {
    case 'mapbox':
      return ['https://api.mapbox.com', 'https://events.mapbox.com', 'https://*.tiles.mapbox.com'];
    case 'style':
      return originOf(setting.url);
    case 'pmtiles':
      return setting.glyphsUrl === null ? [] : originOf(setting.glyphsUrl);
    case 'none':
      return [];
  }
}

/**
 * The origin a URL's requests go to, for the CSP; a placeholder in the host (a `{s}` subdomain)
 * becomes a wildcard. None for a path on this server, or for what is not a URL (config.ts refuses those).
 */
export function originOf(url: string): string[] {
  if (url.startsWith('/')) return [];
  try {
    const parsed = new URL(url.replace(/\{[^}]*\}/g, 'placeholder'));
    const host = parsed.host.split('.').map((part) => (part.includes('placeholder') ? '*' : part)).join('.');
    return [`${parsed.protocol}//${host}`];
  } catch {
    return [];
  }
}

/** One line for the start-up banner. */
export function describeBasemap(setting: BasemapSetting): string {
  switch (setting.kind) {
    case 'none':
      return 'none (a plain background; set MAP_PMTILES, MAP_STYLE_URL or MAPBOX_TOKEN for streets)';
    case 'pmtiles':
      return `PMTiles archive ${setting.file}, served at ${PMTILES_PATH}${setting.glyphsUrl ? ', with labels' : ' (no labels: MAP_GLYPHS_URL unset)'}`;
    case 'style':
      return `MapLibre style ${setting.url}`;
    case 'mapbox':
      return 'Mapbox (light-v11, with MAPBOX_TOKEN)';
  }
}

export class BasemapError extends Error {
  readonly code = 'INVALID_CONFIG';
}

/**
 * Checks that the file is a PMTiles archive of version 3 holding vector tiles, before the server
 * starts: a wrong path or a raster archive is found at start, not by spectators.
 */
export async function checkPmtilesArchive(file: string): Promise<void> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (cause) {
    throw new BasemapError(`MAP_PMTILES: cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const header = Buffer.alloc(127);
    const { bytesRead } = await handle.read(header, 0, 127, 0);
    if (bytesRead < 127 || header.toString('latin1', 0, 7) !== 'PMTiles') throw new BasemapError(`MAP_PMTILES: ${file} is not a PMTiles archive`);
    if (header[7] !== 3) throw new BasemapError(`MAP_PMTILES: ${file} is PMTiles version ${header[7]}; version 3 is needed (convert it with "pmtiles convert")`);
    // Tile type 1: Mapbox Vector Tiles, what the basemap style draws.
    if (header[99] !== 1) throw new BasemapError(`MAP_PMTILES: ${file} holds raster or unknown tiles (type ${header[99]}); a vector basemap is needed (e.g. a Protomaps extract)`);
  } finally {
    await handle.close();
  }
}
