// The one map module. Under the courses and runners it draws the basemap the server is set up
// with (docs/MAPS.md): the server's own PMTiles archive with the Protomaps basemap style, any
// MapLibre style, or a Mapbox style with a token (mapbox-gl v3, which draws nothing without one);
// with none, a plain background and no network at all. Both libraries share the API used here.
import type { Feature, FeatureCollection, LineString, Point } from 'geojson';
import type { StyleSpecification } from 'maplibre-gl';
import type { Basemap, RunnerStatusCode } from '../../shared/protocol.ts';
import { BACKGROUND_COLOUR, COURSE_COLOUR, FOLLOWED_COLOUR, RUNNER_COLOURS, TRACK_COLOUR } from './colours.ts';

export interface RunnerPoint {
  runnerIndex: number;
  lon: number;
  lat: number;
  status: RunnerStatusCode;
  followed: boolean;
  /** Overrides the status colour (the organiser map colours runners by race). */
  colour?: string;
}

export interface RaceMap {
  readonly library: 'mapbox-gl' | 'maplibre-gl';
  showCourse(lapCoordinates: [number, number][]): void;
  /** Road sections drawn over the courses, each in the colour of its state. */
  showSections(lines: ReadonlyArray<{ coordinates: [number, number][]; colour: string }>): void;
  /** Several courses at once, each in its colour; the view fits them all. */
  showCourses(courses: ReadonlyArray<{ lapCoordinates: [number, number][]; colour: string }>): void;
  /** Moves and zooms the view to show these points (one course of several). */
  fitTo(coordinates: ReadonlyArray<[number, number]>): void;
  showRunners(runners: readonly RunnerPoint[]): void;
  /** Marks on the course (km markers, start and finish, water stations…), each in its colour. */
  showFurniture(marks: ReadonlyArray<{ lon: number; lat: number; colour: string; major: boolean }>): void;
  /** A runner's own track (their fixes), or none. */
  showTrack(coordinates: ReadonlyArray<[number, number]> | null): void;
  onRunnerClick(listener: (runnerIndex: number) => void): void;
  /** Moves the view to a place, keeping the zoom. */
  focus(lonLat: [number, number]): void;
  /** A click on the map away from any runner: where, as [lon, lat]. */
  onPlaceClick(listener: (lonLat: [number, number]) => void): void;
}

/** The part of the map API both libraries share, as used here. */
interface MapApi {
  on(type: 'load', listener: () => void): unknown;
  on(type: 'click', layerId: string, listener: (event: { features?: Array<{ properties: unknown }> }) => void): unknown;
  on(type: 'click', listener: (event: { lngLat: { lng: number; lat: number }; point: unknown }) => void): unknown;
  queryRenderedFeatures(point: unknown, options: { layers: string[] }): unknown[];
  addSource(id: string, source: { type: 'geojson'; data: FeatureCollection }): unknown;
  addLayer(layer: Record<string, unknown>): unknown;
  getSource(id: string): unknown;
  fitBounds(bounds: [[number, number], [number, number]], options: { padding: number; animate: boolean }): unknown;
  getCanvas(): HTMLCanvasElement;
  easeTo(options: { center: [number, number]; duration: number }): unknown;
}


const emptyCollection = (): FeatureCollection => ({ type: 'FeatureCollection', features: [] });

/** A style with no tiles: nothing is fetched, and it draws without any token. */
const localStyle: StyleSpecification = {
  version: 8,
  sources: {},
  layers: [{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND_COLOUR } }],
};

/**
 * The Protomaps basemap style over the server's PMTiles archive. Names need fonts: without a
 * glyphs URL the label layers are left out (streets, water, parks and buildings still draw).
 */
async function pmtilesStyle(basemap: Extract<Basemap, { kind: 'pmtiles' }>, language: string): Promise<StyleSpecification> {
  const { layers, namedFlavor } = await import('@protomaps/basemaps');
  const archiveUrl = new URL(basemap.url, location.href).href;
  const all = layers('basemap', namedFlavor('light'), { lang: language });
  return {
    version: 8,
    ...(basemap.glyphsUrl ? { glyphs: new URL(basemap.glyphsUrl, location.href).href.replace(/%7B/g, '{').replace(/%7D/g, '}') } : {}),
    sources: { basemap: { type: 'vector', url: `pmtiles://${archiveUrl}`, attribution: basemap.attribution } },
    layers: basemap.glyphsUrl ? all : all.filter((layer) => layer.type !== 'symbol'),
  };
}

let pmtilesProtocolAdded = false;

export async function createRaceMap(container: HTMLElement, basemap: Basemap, options: { language?: string } = {}): Promise<RaceMap> {
  let map: MapApi;
  let library: RaceMap['library'];
  // The data's attribution is drawn on the map whenever there is a basemap (its licence asks for it).
  const common = { container, center: [51.39, 35.7] as [number, number], zoom: 11 };
  if (basemap.kind === 'mapbox') {
    const [{ default: mapboxgl }] = await Promise.all([import('mapbox-gl'), import('mapbox-gl/dist/mapbox-gl.css')]);
    mapboxgl.accessToken = basemap.token;
    map = new mapboxgl.Map({ ...common, attributionControl: true, style: 'mapbox://styles/mapbox/light-v11' }) as unknown as MapApi;
    library = 'mapbox-gl';
  } else {
    const [maplibre] = await Promise.all([import('maplibre-gl'), import('maplibre-gl/dist/maplibre-gl.css')]);
    let style: StyleSpecification | string = localStyle;
    if (basemap.kind === 'pmtiles') {
      if (!pmtilesProtocolAdded) {
        const { Protocol } = await import('pmtiles');
        maplibre.addProtocol('pmtiles', new Protocol().tile);
        pmtilesProtocolAdded = true;
      }
      style = await pmtilesStyle(basemap, options.language ?? 'en');
    } else if (basemap.kind === 'style') {
      style = basemap.url;
    }
    map = new maplibre.Map({ ...common, attributionControl: basemap.kind === 'none' ? false : { compact: true }, style }) as unknown as MapApi;
    library = 'maplibre-gl';
  }
  await new Promise<void>((resolve) => map.on('load', () => resolve()));

  map.addSource('course', { type: 'geojson', data: emptyCollection() });
  map.addSource('runners', { type: 'geojson', data: emptyCollection() });
  map.addSource('sections', { type: 'geojson', data: emptyCollection() });
  map.addSource('track', { type: 'geojson', data: emptyCollection() });
  map.addSource('furniture', { type: 'geojson', data: emptyCollection() });
  map.addLayer({
    id: 'course',
    type: 'line',
    source: 'course',
    layout: { 'line-join': 'round', 'line-cap': 'round' },
    paint: { 'line-color': ['coalesce', ['get', 'colour'], COURSE_COLOUR], 'line-width': 4 },
  });
  map.addLayer({
    id: 'sections',
    type: 'line',
    source: 'sections',
    layout: { 'line-cap': 'butt' },
    paint: { 'line-color': ['get', 'colour'], 'line-width': 9, 'line-opacity': 0.55 },
  });
  map.addLayer({
    id: 'furniture',
    type: 'circle',
    source: 'furniture',
    paint: {
      'circle-radius': ['case', ['get', 'major'], 6, 3],
      'circle-color': ['get', 'colour'],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': ['case', ['get', 'major'], 2, 1],
    },
  });
  map.addLayer({
    id: 'track',
    type: 'line',
    source: 'track',
    layout: { 'line-join': 'round', 'line-cap': 'round' },
    paint: { 'line-color': TRACK_COLOUR, 'line-width': 2.5 },
  });
  map.addLayer({
    id: 'runners',
    type: 'circle',
    source: 'runners',
    paint: {
      'circle-radius': ['case', ['get', 'followed'], 9, 5],
      'circle-color': ['case', ['get', 'followed'], FOLLOWED_COLOUR, ['get', 'colour']],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 1.5,
    },
  });
  const setData = (sourceId: string, data: FeatureCollection): void => {
    (map.getSource(sourceId) as { setData(d: FeatureCollection): void }).setData(data);
  };

  const showCourses: RaceMap['showCourses'] = (courses) => {
    const lines: Feature<LineString>[] = courses.map((c) => ({
      type: 'Feature',
      properties: { colour: c.colour },
      geometry: { type: 'LineString', coordinates: c.lapCoordinates },
    }));
    setData('course', { type: 'FeatureCollection', features: lines });
    fitTo(courses.flatMap((c) => c.lapCoordinates));
  };

  const fitTo = (coordinates: ReadonlyArray<[number, number]>): void => {
    let west = Infinity;
    let south = Infinity;
    let east = -Infinity;
    let north = -Infinity;
    for (const [lon, lat] of coordinates) {
      west = Math.min(west, lon);
      east = Math.max(east, lon);
      south = Math.min(south, lat);
      north = Math.max(north, lat);
    }
    if (!Number.isFinite(west)) return;
    map.fitBounds(
      [
        [west, south],
        [east, north],
      ],
      { padding: 40, animate: false },
    );
  };

  return {
    library,
    showCourse(lapCoordinates) {
      showCourses([{ lapCoordinates, colour: COURSE_COLOUR }]);
    },
    showCourses,
    fitTo,
    showSections(lines) {
      setData('sections', {
        type: 'FeatureCollection',
        features: lines.map((l) => ({ type: 'Feature', properties: { colour: l.colour }, geometry: { type: 'LineString', coordinates: l.coordinates } })),
      });
    },
    showRunners(runners) {
      // The followed runner last, so it is drawn on top.
      const ordered = [...runners].sort((a, b) => Number(a.followed) - Number(b.followed));
      const features: Feature<Point>[] = ordered.map((r) => ({
        type: 'Feature',
        properties: { runnerIndex: r.runnerIndex, followed: r.followed, colour: r.colour ?? RUNNER_COLOURS[r.status] },
        geometry: { type: 'Point', coordinates: [r.lon, r.lat] },
      }));
      setData('runners', { type: 'FeatureCollection', features });
    },
    focus(lonLat) {
      map.easeTo({ center: lonLat, duration: 400 });
    },
    showFurniture(marks) {
      setData('furniture', {
        type: 'FeatureCollection',
        features: marks.map((m) => ({ type: 'Feature', properties: { colour: m.colour, major: m.major }, geometry: { type: 'Point', coordinates: [m.lon, m.lat] } })),
      });
    },
    showTrack(coordinates) {
      const features: Feature<LineString>[] =
        coordinates && coordinates.length >= 2 ? [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: coordinates.map(([lon, lat]) => [lon, lat]) } }] : [];
      setData('track', { type: 'FeatureCollection', features });
    },
    onPlaceClick(listener) {
      map.on('click', (event) => {
        if (map.queryRenderedFeatures(event.point, { layers: ['runners'] }).length > 0) return;
        listener([event.lngLat.lng, event.lngLat.lat]);
      });
    },
    onRunnerClick(listener) {
      map.on('click', 'runners', (event) => {
        const properties = event.features?.[0]?.properties as { runnerIndex?: unknown } | undefined;
        if (typeof properties?.runnerIndex === 'number') listener(properties.runnerIndex);
      });
    },
  };
}
