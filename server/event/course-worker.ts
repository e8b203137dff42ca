// The course parser's own thread (server/event/course-parser.ts): reading and simplifying a big
// GPX or GeoJSON line takes seconds, which the server's event loop must not spend.
import { parentPort } from 'node:worker_threads';
import { lineFromGeoJson, lineFromGpx } from './course-import.ts';
import type { LineInput } from './course-parser.ts';

parentPort!.on('message', (message: { id: number; input: LineInput }) => {
  const { id, input } = message;
  let result;
  try {
    result = 'gpx' in input ? lineFromGpx(input.gpx) : lineFromGeoJson(input.geojson);
  } catch (cause) {
    result = { problems: [`could not be read (${(cause as Error).message})`] };
  }
  parentPort!.postMessage({ id, result });
});
