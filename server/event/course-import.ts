// Course lines from the formats organisers have: GeoJSON (checked with geojson-validation) and
// GPX (parsed with @xmldom/xmldom and converted by @tmcw/togeojson). Each problem comes back as a
// sentence saying what is wrong and where, never as an exception.
import { gpx as gpxToGeoJson } from '@tmcw/togeojson';
import { DOMParser } from '@xmldom/xmldom';
import gjv from 'geojson-validation';
import type { LonLat } from '../../shared/course-path.ts';

export type LineResult = { coordinates: LonLat[] } | { problems: string[] };

/**
 * The one line of a GeoJSON document: a LineString, a Feature holding one, or a
 * FeatureCollection with exactly one. The document is checked with geojson-validation first, so a
 * malformed one is reported as such rather than as a missing line.
 */
export function lineFromGeoJson(geojson: unknown): LineResult {
  const errors = gjv.valid(geojson, true);
  if (errors.length > 0) return { problems: errors.slice(0, 5).map((e) => `invalid GeoJSON: ${e}`) };
  const lines: unknown[] = [];
  const collect = (g: unknown): void => {
    if (typeof g !== 'object' || g === null) return;
    const o = g as { type?: unknown; geometry?: unknown; features?: unknown; coordinates?: unknown };
    if (o.type === 'LineString') lines.push(o.coordinates);
    else if (o.type === 'Feature') collect(o.geometry);
    else if (o.type === 'FeatureCollection' && Array.isArray(o.features)) o.features.forEach(collect);
  };
  collect(geojson);
  if (lines.length !== 1) {
    return { problems: [`needs exactly one LineString (found ${lines.length})`] };
  }
  return checkedLine((lines[0] as number[][]).map((p): LonLat => [p[0]!, p[1]!]));
}

/**
 * The line of a GPX document: its one track (the segments of a track joined in order) or, when it
 * has no track, its one route.
 */
export function lineFromGpx(text: string): LineResult {
  const parseErrors: string[] = [];
  let doc;
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') parseErrors.push(message.split('\n')[0]!.trim());
      },
    }).parseFromString(text, 'text/xml');
  } catch (cause) {
    const message = (cause as Error).message.split('\n')[0]!.replace(/\[xmldom [a-zA-Z]+\]\s*/g, '').trim();
    return { problems: [`not valid XML: ${parseErrors[0] ?? message}`] };
  }
  if (parseErrors.length > 0) return { problems: [`not valid XML: ${parseErrors[0]}`] };
  if (doc.documentElement?.nodeName !== 'gpx') {
    return { problems: [`not a GPX document (its root element is <${doc.documentElement?.nodeName ?? 'nothing'}>, not <gpx>)`] };
  }
  // togeojson reads the standard DOM; xmldom's Document implements the parts it uses.
  const collection = gpxToGeoJson(doc as unknown as Document);
  const byType = (type: string) => collection.features.filter((f) => f.properties?.['_gpxType'] === type);
  const tracks = byType('trk');
  const chosen = tracks.length > 0 ? tracks : byType('rte');
  if (chosen.length !== 1) {
    return {
      problems: [
        chosen.length === 0
          ? 'has no track (<trk>) or route (<rte>) with at least two points'
          : `has ${chosen.length} ${tracks.length > 0 ? 'tracks' : 'routes'}; a course is exactly one (remove the others)`,
      ],
    };
  }
  const geometry = chosen[0]!.geometry;
  if (geometry?.type === 'LineString') return checkedLine(geometry.coordinates.map((p): LonLat => [p[0]!, p[1]!]));
  if (geometry?.type === 'MultiLineString') return checkedLine(geometry.coordinates.flat().map((p): LonLat => [p[0]!, p[1]!]));
  return { problems: ['has no track (<trk>) or route (<rte>) with at least two points'] };
}

function checkedLine(coordinates: LonLat[]): LineResult {
  const problems: string[] = [];
  const outside = coordinates.flatMap(([lon, lat], i) =>
    Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lon) <= 180 && Math.abs(lat) <= 90 ? [] : [i],
  );
  // A line written [lat, lon] has every coordinate wrong: name a few, count the rest.
  for (const i of outside.slice(0, 3)) {
    const [lon, lat] = coordinates[i]!;
    problems.push(`coordinate ${i} [${lon}, ${lat}] is outside longitude -180..180 / latitude -90..90 (GeoJSON is [longitude, latitude])`);
  }
  if (outside.length > 3) problems.push(`and ${outside.length - 3} more coordinates outside the range`);
  if (coordinates.length < 2) problems.push('a course line needs at least two positions');
  return problems.length > 0 ? { problems } : { coordinates };
}
