// Uploaded course lines are read on their own thread: answered with the line, or with a problem
// when the thread does not finish in time; never left unanswered.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCourseParser } from '../../server/event/course-parser.ts';

const gpx = readFileSync(new URL('../fixtures/park-loop-700m.gpx', import.meta.url), 'utf8');

describe('the course reader thread', () => {
  it('reads a GPX line off the event loop, and several at once', async () => {
    const parser = createCourseParser();
    try {
      const results = await Promise.all([parser.parse({ gpx }), parser.parse({ gpx }), parser.parse({ geojson: { type: 'LineString', coordinates: [[51.3, 35.7], [51.31, 35.7]] } })]);
      expect(results[0]).toEqual(results[1]);
      expect('coordinates' in results[0]! && results[0].coordinates.length).toBeGreaterThan(40);
      expect(results[2]).toEqual({ coordinates: [[51.3, 35.7], [51.31, 35.7]] });
    } finally {
      await parser.close();
    }
  });

  it('answers with a problem, not silence, when the thread takes longer than its deadline', async () => {
    const slow = createCourseParser({ deadlineMs: 1 });
    try {
      const started = performance.now();
      expect(await slow.parse({ gpx })).toEqual({ problems: [expect.stringMatching(/took more than 0.001 s to read/)] });
      // And again: the stopped thread is replaced, and its end fails no later upload.
      expect(await slow.parse({ gpx })).toEqual({ problems: [expect.stringMatching(/took more than/)] });
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      await slow.close();
    }
  });

  it('refuses a document too deep to hand to the thread, without handing it', async () => {
    const parser = createCourseParser();
    try {
      let deep: unknown = [51.3, 35.7];
      for (let i = 0; i < 10_000; i++) deep = [deep];
      expect(await parser.parse({ geojson: { type: 'LineString', coordinates: deep } })).toEqual({ problems: [expect.stringMatching(/nested more than 32 deep/)] });
    } finally {
      await parser.close();
    }
  });
});
