// Course lines from GeoJSON and GPX, as organisers export them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lineFromGeoJson, lineFromGpx } from '../../server/event/course-import.ts';

const gpxFixture = readFileSync(new URL('../fixtures/park-loop-700m.gpx', import.meta.url), 'utf8');
const geojsonLoop = JSON.parse(readFileSync(new URL('../../server/demo/courses/park-loop-700m.geojson', import.meta.url), 'utf8')) as {
  geometry: { coordinates: [number, number][] };
};
const gpx = (body: string) => `<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">${body}</gpx>`;

describe('GPX courses', () => {
  it('reads a track written in two segments as one line, in order', () => {
    const result = lineFromGpx(gpxFixture);
    if ('problems' in result) throw new Error(result.problems.join('; '));
    // The same points as the GeoJSON export of that loop, read and simplified alike.
    expect(result.coordinates).toEqual((lineFromGeoJson(geojsonLoop) as { coordinates: unknown }).coordinates);
    expect(result.coordinates.length).toBeGreaterThan(40);
  });

  it('falls back to a route when there is no track', () => {
    const result = lineFromGpx(gpx('<rte><rtept lat="35.70" lon="51.30"/><rtept lat="35.71" lon="51.31"/></rte>'));
    expect(result).toEqual({ coordinates: [[51.3, 35.7], [51.31, 35.71]] });
  });

  it('says what is wrong with a file that is not a usable course', () => {
    expect(lineFromGpx('<gpx><trk><trkseg><trkpt lat="1"')).toEqual({ problems: [expect.stringMatching(/^not valid XML: /)] });
    expect(lineFromGpx('')).toEqual({ problems: [expect.stringMatching(/^not valid XML/)] });
    expect(lineFromGpx('<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>')).toEqual({
      problems: ['not a GPX document (its root element is <kml>, not <gpx>)'],
    });
    expect(lineFromGpx(gpx('<wpt lat="1" lon="2"/>'))).toEqual({ problems: ['has no track (<trk>) or route (<rte>) with at least two points'] });
    const twoTracks = '<trk><trkseg><trkpt lat="1" lon="2"/><trkpt lat="1.1" lon="2"/></trkseg></trk>'.repeat(2);
    expect(lineFromGpx(gpx(twoTracks))).toEqual({ problems: ['has 2 tracks; a course is exactly one (remove the others)'] });
    expect(lineFromGpx(gpx('<trk><trkseg><trkpt lat="95" lon="2"/><trkpt lat="1.1" lon="2"/></trkseg></trk>'))).toEqual({
      problems: [expect.stringMatching(/^coordinate 0 \[2, 95\] is outside/)],
    });
  });
});

describe('GeoJSON courses', () => {
  it('accepts a LineString, a Feature and a FeatureCollection with one line', () => {
    const line = { type: 'LineString', coordinates: [[51.3, 35.7], [51.31, 35.7]] };
    const expected = { coordinates: [[51.3, 35.7], [51.31, 35.7]] };
    expect(lineFromGeoJson(line)).toEqual(expected);
    expect(lineFromGeoJson({ type: 'Feature', properties: {}, geometry: line })).toEqual(expected);
    expect(
      lineFromGeoJson({
        type: 'FeatureCollection',
        features: [
          { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [51.3, 35.7] } },
          { type: 'Feature', properties: {}, geometry: line },
        ],
      }),
    ).toEqual(expected);
  });

  it('refuses what is not GeoJSON, or has no single line', () => {
    expect(lineFromGeoJson('LineString')).toEqual({ problems: ['invalid GeoJSON: must be a JSON Object'] });
    expect(lineFromGeoJson({ type: 'LineString', coordinates: 'x' })).toMatchObject({ problems: [expect.stringMatching(/^invalid GeoJSON/)] });
    expect(lineFromGeoJson({ type: 'FeatureCollection', features: [] })).toEqual({ problems: ['needs exactly one LineString (found 0)'] });
  });
});

describe('elevation profiles', () => {
  const line = Array.from({ length: 11 }, (_, i) => [51.3 + i * 0.001, 35.7, 1200 + i * 2]);

  it('keeps the altitudes of a GeoJSON line, by share of its length', () => {
    const result = lineFromGeoJson({ type: 'LineString', coordinates: line });
    if ('problems' in result) throw new Error(result.problems.join('; '));
    expect(result.profile?.length).toBe(11);
    expect(result.profile?.[0]).toEqual([0, 1200]);
    expect(result.profile?.at(-1)).toEqual([1, 1220]);
    expect(result.profile?.[5]![0]).toBeCloseTo(0.5, 3);
  });

  it('keeps the ele of a GPX track', () => {
    const points = line.map(([lon, lat, ele]) => `<trkpt lat="${lat}" lon="${lon}"><ele>${ele}</ele></trkpt>`).join('');
    const result = lineFromGpx(`<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>${points}</trkseg></trk></gpx>`);
    if ('problems' in result) throw new Error(result.problems.join('; '));
    expect(result.profile?.at(-1)).toEqual([1, 1220]);
  });

  it('has none when positions carry no altitude, or only a few do, and thins a long one', () => {
    const flat = lineFromGeoJson({ type: 'LineString', coordinates: line.map(([lon, lat]) => [lon, lat]) });
    expect('profile' in flat && flat.profile).toBeFalsy();
    const few = lineFromGeoJson({ type: 'LineString', coordinates: line.map(([lon, lat, ele], i) => (i < 3 ? [lon, lat, ele] : [lon, lat])) });
    expect('profile' in few && few.profile).toBeFalsy();
    // A winding line of 5,000 positions (a GPS track recorded every metre or so).
    const long = Array.from({ length: 5000 }, (_, i) => [51.3 + i * 0.0001, 35.7 + Math.sin(i / 50) * 0.002, 1200 + Math.sin(i / 100) * 10]);
    const thinned = lineFromGeoJson({ type: 'LineString', coordinates: long });
    if ('problems' in thinned) throw new Error(thinned.problems.join('; '));
    expect(thinned.profile!.length).toBeLessThanOrEqual(400);
    expect(thinned.profile!.at(-1)![0]).toBe(1);
  });
});
