// Builds a small PMTiles (version 3) archive of vector tiles inside a test: features cut into
// Mapbox Vector Tiles with geojson-vt and vt-pbf, laid out as the PMTiles specification says (a
// 127-byte header, one root directory, JSON metadata, the tiles in Hilbert order). No library on
// the registry writes PMTiles from JavaScript; the archive is read back in the test with the
// pmtiles package, the reader the pages use.
import { writeFile } from 'node:fs/promises';
import type { Feature, Geometry } from 'geojson';
import geojsonvt from 'geojson-vt';
import { zxyToTileId } from 'pmtiles';
import { fromGeojsonVt } from 'vt-pbf';

export interface ArchiveLayer {
  /** The layer name the style's `source-layer` refers to (the Protomaps basemap: earth, water, roads…). */
  name: string;
  features: Array<Feature<Geometry, Record<string, string | number | boolean>>>;
}

export interface ArchiveOptions {
  bounds: { west: number; south: number; east: number; north: number };
  minZoom: number;
  maxZoom: number;
  attribution: string;
}

function varint(out: number[], value: number): void {
  let n = value;
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/** Longitude and latitude to the tile holding them at zoom z (Web Mercator). */
function tileOf(lon: number, lat: number, z: number): [number, number] {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const rad = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n);
  return [Math.min(n - 1, Math.max(0, x)), Math.min(n - 1, Math.max(0, y))];
}

export async function writePmtilesArchive(file: string, layers: ArchiveLayer[], options: ArchiveOptions): Promise<{ tiles: number; bytes: number }> {
  const indexes = layers.map((layer) => ({
    name: layer.name,
    index: geojsonvt({ type: 'FeatureCollection', features: layer.features }, { maxZoom: options.maxZoom, indexMaxZoom: options.maxZoom, indexMaxPoints: 0 }),
  }));
  const tiles: Array<{ id: number; data: Uint8Array }> = [];
  const { west, south, east, north } = options.bounds;
  for (let z = options.minZoom; z <= options.maxZoom; z++) {
    const [x0, y0] = tileOf(west, north, z);
    const [x1, y1] = tileOf(east, south, z);
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) {
        const present: Record<string, unknown> = {};
        for (const { name, index } of indexes) {
          const tile = index.getTile(z, x, y);
          if (tile && tile.features.length > 0) present[name] = tile;
        }
        if (Object.keys(present).length === 0) continue;
        tiles.push({ id: zxyToTileId(z, x, y), data: fromGeojsonVt(present as Parameters<typeof fromGeojsonVt>[0], { version: 2 }) });
      }
    }
  }
  tiles.sort((a, b) => a.id - b.id);

  // The root directory: tile ids as deltas, run lengths, lengths, offsets (0: right after the previous).
  const directory: number[] = [];
  varint(directory, tiles.length);
  let lastId = 0;
  for (const t of tiles) {
    varint(directory, t.id - lastId);
    lastId = t.id;
  }
  for (let i = 0; i < tiles.length; i++) varint(directory, 1);
  for (const t of tiles) varint(directory, t.data.length);
  for (let i = 0; i < tiles.length; i++) varint(directory, i === 0 ? 1 : 0);
  const metadata = Buffer.from(
    JSON.stringify({ name: 'test basemap', attribution: options.attribution, vector_layers: layers.map((l) => ({ id: l.name, fields: {} })) }),
  );
  const tileData = Buffer.concat(tiles.map((t) => t.data));

  const header = Buffer.alloc(127);
  header.write('PMTiles', 0, 'latin1');
  header[7] = 3;
  const rootOffset = 127;
  const metadataOffset = rootOffset + directory.length;
  const leafOffset = metadataOffset + metadata.length;
  const tileOffset = leafOffset;
  const u64 = (at: number, value: number) => header.writeBigUInt64LE(BigInt(value), at);
  u64(8, rootOffset);
  u64(16, directory.length);
  u64(24, metadataOffset);
  u64(32, metadata.length);
  u64(40, leafOffset);
  u64(48, 0);
  u64(56, tileOffset);
  u64(64, tileData.length);
  u64(72, tiles.length);
  u64(80, tiles.length);
  u64(88, tiles.length);
  header[96] = 1; // clustered: tiles in tile-id order
  header[97] = 1; // internal compression: none
  header[98] = 1; // tile compression: none
  header[99] = 1; // Mapbox Vector Tiles
  header[100] = options.minZoom;
  header[101] = options.maxZoom;
  const e7 = (at: number, degrees: number) => header.writeInt32LE(Math.round(degrees * 1e7), at);
  e7(102, west);
  e7(106, south);
  e7(110, east);
  e7(114, north);
  header[118] = options.maxZoom;
  e7(119, (west + east) / 2);
  e7(123, (south + north) / 2);
  const archive = Buffer.concat([header, Buffer.from(directory), metadata, tileData]);
  await writeFile(file, archive);
  return { tiles: tiles.length, bytes: archive.length };
}
