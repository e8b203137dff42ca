// Course lines from the formats organisers have: GeoJSON (checked with geojson-validation) and
// GPX (parsed with @xmldom/xmldom and converted by @tmcw/togeojson). Each problem comes back as a
// sentence saying what is wrong and where, never as an exception.
import { gpx as gpxToGeoJson } from '@tmcw/togeojson';
import { DOMParser } from '@xmldom/xmldom';
import { lineString, simplify } from '@turf/turf';
import CheapRuler from 'cheap-ruler';
import gjv from 'geojson-validation';
import type { LonLat } from '../../shared/course-path.ts';

/**
 * A course line read, or why not. `profile`: the line's altitudes, when its positions carry them
 * (GPX `ele`, a GeoJSON third coordinate), as [share of the line's length from its start, metres].
 */
export type LineResult = { coordinates: LonLat[]; profile?: ElevationProfile } | { problems: string[] };
export type ElevationProfile = Array<[share: number, elevationM: number]>;

/** An elevation profile keeps at most this many points (a chart of a marathon needs no more). */
export const MAX_PROFILE_POINTS = 400;

/**
 * What a course file may hold (docs/SECURITY.md). A parser is handed nothing past these, so one
 * upload cannot hold the event loop: a 5 MB GPX of 500,000 nested elements took 9 s to refuse.
 */
export const COURSE_LIMITS = {
  /** Positions read from a file, before simplification (a 42 km course logged every metre has 42,000). */
  maxPositions: 100_000,
  /** Nesting of XML elements or JSON arrays and objects (a GPX needs 6 or so). */
  maxDepth: 32,
  /**
   * Positions the engine keeps after simplification: each fix is snapped against the segments
   * near it, and thousands of metre-long segments cost tens of milliseconds a fix.
   */
  maxVertices: 20_000,
  /** Points closer than this to the simplified line are dropped: well inside GPS noise. */
  simplifyToleranceM: 0.5,
};

/**
 * The one line of a GeoJSON document: a LineString, a Feature holding one, or a
 * FeatureCollection with exactly one. The document is checked with geojson-validation first, so a
 * malformed one is reported as such rather than as a missing line.
 */
export function lineFromGeoJson(geojson: unknown): LineResult {
  const tooBig = jsonShapeProblem(geojson);
  if (tooBig) return { problems: [tooBig] };
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
  return checkedLine((lines[0] as number[][]).map((p): LonLat => [p[0]!, p[1]!]), lines[0] as number[][]);
}

/**
 * The line of a GPX document: its one track (the segments of a track joined in order) or, when it
 * has no track, its one route.
 */
export function lineFromGpx(text: string): LineResult {
  const tooBig = xmlShapeProblem(text);
  if (tooBig) return { problems: [tooBig] };
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
  if (geometry?.type === 'LineString') return checkedLine(geometry.coordinates.map((p): LonLat => [p[0]!, p[1]!]), geometry.coordinates);
  if (geometry?.type === 'MultiLineString') {
    const positions = geometry.coordinates.flat();
    return checkedLine(positions.map((p): LonLat => [p[0]!, p[1]!]), positions);
  }
  return { problems: ['has no track (<trk>) or route (<rte>) with at least two points'] };
}

function checkedLine(coordinates: LonLat[], positions: ReadonlyArray<ReadonlyArray<number>> = []): LineResult {
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
  if (problems.length > 0) return { problems };
  const simplified = simplifiedLine(coordinates);
  if (simplified.length > COURSE_LIMITS.maxVertices) {
    return {
      problems: [
        `the line has ${simplified.length} positions after dropping those within ${COURSE_LIMITS.simplifyToleranceM} m of it; at most ${COURSE_LIMITS.maxVertices} are kept (a course of up to ${COURSE_LIMITS.maxVertices} bends): simplify it first`,
      ],
    };
  }
  const profile = profileOf(coordinates, positions);
  return profile ? { coordinates: simplified, profile } : { coordinates: simplified };
}

/**
 * The altitudes along the line as read (before simplifying, which looks at the map, not the
 * hills): when nearly every position has one, at most MAX_PROFILE_POINTS of them, evenly spread.
 */
function profileOf(coordinates: readonly LonLat[], positions: ReadonlyArray<ReadonlyArray<number>>): ElevationProfile | undefined {
  const withAltitude = positions.filter((p) => Number.isFinite(p[2]) && Math.abs(p[2]!) < 10_000).length;
  if (positions.length !== coordinates.length || withAltitude < 2 || withAltitude < 0.9 * positions.length) return undefined;
  const ruler = new CheapRuler(coordinates[0]![1], 'meters');
  const along = [0];
  for (let i = 1; i < coordinates.length; i++) along.push(along[i - 1]! + ruler.distance(coordinates[i - 1]!, coordinates[i]!));
  const total = along.at(-1)!;
  if (!(total > 0)) return undefined;
  const points: ElevationProfile = [];
  let nextShare = 0;
  for (const [i, p] of positions.entries()) {
    const share = along[i]! / total;
    if (!Number.isFinite(p[2]) || (share < nextShare && i !== positions.length - 1)) continue;
    points.push([Math.round(share * 1e5) / 1e5, Math.round(p[2]! * 10) / 10]);
    nextShare = share + 1 / (MAX_PROFILE_POINTS - 1);
  }
  return points.length >= 2 ? points : undefined;
}

/** The line with the points that add nothing the engine can see removed (Douglas–Peucker, Turf). */
function simplifiedLine(coordinates: LonLat[]): LonLat[] {
  // Turf's tolerance is in degrees; a degree of latitude is about 111 km, a degree of longitude
  // less, so the tolerance is at most the one asked for in every direction.
  const toleranceDeg = COURSE_LIMITS.simplifyToleranceM / 111_320;
  const simplified = simplify(lineString(coordinates), { tolerance: toleranceDeg, highQuality: true });
  return simplified.geometry.coordinates.map((p): LonLat => [p[0]!, p[1]!]);
}

/**
 * Refuses an XML document that is too deep or has too many points, before it is parsed: a look at
 * its tags only (comments and declarations are not tags and are skipped).
 */
function xmlShapeProblem(text: string): string | null {
  let depth = 0;
  let deepest = 0;
  let points = 0;
  const tag = /<(\/?)([A-Za-z_][\w:.-]*)[^<>]*?(\/?)>/g;
  for (let m = tag.exec(text); m !== null; m = tag.exec(text)) {
    if (m[1] === '/') {
      depth -= 1;
      continue;
    }
    if (m[2] === 'trkpt' || m[2] === 'rtept') points += 1;
    if (m[3] === '/') continue;
    depth += 1;
    if (depth > deepest) deepest = depth;
    if (deepest > COURSE_LIMITS.maxDepth) return `elements nested more than ${COURSE_LIMITS.maxDepth} deep: not a GPX course`;
  }
  if (points > COURSE_LIMITS.maxPositions) return `${points} points; a course file may have at most ${COURSE_LIMITS.maxPositions}`;
  return null;
}

/** The same for a JSON document already parsed: its depth and how many positions it holds. */
export function jsonShapeProblem(value: unknown): string | null {
  let positions = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > COURSE_LIMITS.maxDepth) return `nested more than ${COURSE_LIMITS.maxDepth} deep: not a GeoJSON course`;
    if (Array.isArray(v)) {
      // A position is an array of numbers.
      if (v.length > 0 && typeof v[0] === 'number') {
        positions += 1;
        if (positions > COURSE_LIMITS.maxPositions) return `more than ${COURSE_LIMITS.maxPositions} positions; a course file may have at most ${COURSE_LIMITS.maxPositions}`;
        continue;
      }
      for (const item of v) stack.push({ value: item, depth: depth + 1 });
    } else {
      for (const item of Object.values(v)) stack.push({ value: item, depth: depth + 1 });
    }
  }
  return null;
}
