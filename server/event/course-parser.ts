// Course lines uploaded while the event runs are read on a worker thread, with a deadline and a
// heap of its own: a 60,000-point GPX takes about 4.5 s to parse and simplify, and the server's
// event loop (fixes, deltas, /healthz) must not wait for it. The event file, read before the
// server listens, is parsed in place.
import { Worker } from 'node:worker_threads';
import { jsonShapeProblem, lineFromGeoJson, lineFromGpx, type LineResult } from './course-import.ts';

export type LineInput = { gpx: string } | { geojson: unknown };
export type LineParser = (input: LineInput) => Promise<LineResult>;

/** In this thread: for the event file, read before anything else runs. */
export const parseLineHere: LineParser = async (input) => ('gpx' in input ? lineFromGpx(input.gpx) : lineFromGeoJson(input.geojson));

export interface CourseParser {
  parse: LineParser;
  close(): Promise<void>;
}

export function createCourseParser(options: { deadlineMs?: number; heapMb?: number } = {}): CourseParser {
  const deadlineMs = options.deadlineMs ?? 20_000;
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve: (result: LineResult) => void; timer: NodeJS.Timeout; on: Worker }>();

  /** Answers the jobs a thread had (or every job: null) with a problem. */
  const failAll = (problem: string, of: Worker | null = null) => {
    for (const [id, job] of pending) {
      if (of !== null && job.on !== of) continue;
      clearTimeout(job.timer);
      job.resolve({ problems: [problem] });
      pending.delete(id);
    }
  };
  const start = (): Worker => {
    // The worker runs the TypeScript sources as the server does, through tsx.
    const entry = new URL('./course-worker-entry.mjs', import.meta.url);
    const started = new Worker(entry, {
      resourceLimits: { maxOldGenerationSizeMb: options.heapMb ?? 512 },
    });
    started.unref();
    started.on('message', (message: { id: number; result: LineResult }) => {
      const job = pending.get(message.id);
      if (!job) return;
      clearTimeout(job.timer);
      pending.delete(message.id);
      job.resolve(message.result);
    });
    const gone = (why: string) => {
      if (worker === started) worker = null;
      // Only this thread's jobs: one stopped for its deadline must not fail the next thread's.
      failAll(why, started);
    };
    started.on('error', (err) => gone(`could not be read (${err.message})`));
    started.on('exit', () => gone('could not be read (the course reader stopped)'));
    return started;
  };

  return {
    parse: (input) =>
      new Promise<LineResult>((resolve) => {
        // A document too deep to be copied to the thread (structured cloning recurses) is
        // refused here; the look is iterative and cheap.
        const tooBig = 'geojson' in input ? jsonShapeProblem(input.geojson) : null;
        if (tooBig) return resolve({ problems: [tooBig] });
        worker ??= start();
        const running = worker;
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve({ problems: [`took more than ${deadlineMs / 1000} s to read; simplify the course`] });
          // What it was doing is abandoned with the thread; the next upload gets a new one.
          if (worker === running) worker = null;
          void running.terminate();
        }, deadlineMs);
        pending.set(id, { resolve, timer, on: running });
        try {
          running.postMessage({ id, input });
        } catch (cause) {
          clearTimeout(timer);
          pending.delete(id);
          resolve({ problems: [`could not be read (${(cause as Error).message})`] });
        }
      }),
    close: async () => {
      const running = worker;
      worker = null;
      failAll('the server is shutting down');
      await running?.terminate();
    },
  };
}
