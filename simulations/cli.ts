// `npm run sim -- <command>`: simulations run against the product's own code.
//
//   closures [--json] [--seed N] [--tick SECONDS]
//       The demo's street races at simulated speed: per road section, when it became ready to
//       reopen, the planned time, and how far the predictions 30 and 10 minutes earlier were.
//
//   accuracy [--json] [--seed N] [--only NAME] [--noise M] [--interval S] [--outliers SHARE] [--no-accuracy]
//       The course engine's accuracy evaluation (simulations/accuracy.ts): seeded scenarios,
//       the engine beside the naive baseline, and the targets it misses. The options run every
//       scenario at another noise, fix interval or share of outliers, or with fixes that state
//       no accuracy.
//
//   eta [--json] [--seed N] [--runners N]
//       The predicted arrival's error 30 and 10 minutes before runners reach a point
//       (simulations/eta.ts): median, 90th percentile, and how often the interval holds it.
//
//   demo [event.json] --url http://127.0.0.1:8080 [--speed N] [--organiser-token T] [--seed N]
//       Moves every participant of the event file against a running server, through the same
//       Socket.IO path a runner's phone uses. Device tokens come from the event file. Use the
//       server's own speed (a server started with --speed 10 needs --speed 10 here).
import { parseArgs } from 'node:util';
import { DEMO_EVENT_FILE } from '../server/config.ts';
import { systemClock, scaledClock } from '../server/core/clock.ts';
import { loadEventFile } from '../server/event/event-file.ts';
import type { Ack, ClientConfig, RaceSummary } from '../shared/protocol.ts';
import { formatTable, missedTargets, runScenario, scenarios, VARIANTS, type ScenarioResult } from './accuracy.ts';
import { formatClosures, runClosures } from './closures.ts';
import { formatEta, runEta } from './eta.ts';
import { startDemoSimulation } from '../server/demo/simulated-runners.ts';

const usage = `usage: npm run sim -- demo [event.json] [--url URL] [--speed N] [--organiser-token T] [--seed N]
       npm run sim -- accuracy [--json] [--seed N] [--only NAME] [--seeds COUNT] [--misses N] [--noise M] [--interval S] [--outliers SHARE] [--no-accuracy]
       npm run sim -- closures [--json] [--seed N] [--tick SECONDS]
       npm run sim -- eta [--json] [--seed N] [--runners N]`;

async function accuracy(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' },
      seed: { type: 'string', default: '2016' },
      only: { type: 'string' },
      seeds: { type: 'string' },
      misses: { type: 'string', default: '40' },
      noise: { type: 'string' },
      interval: { type: 'string' },
      outliers: { type: 'string' },
      'no-accuracy': { type: 'boolean' },
    },
  });
  const seed = Number(values.seed);
  const missLines = Number(values.misses);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be a whole number\n${usage}`);
  // The scenarios at another GPS noise (per axis, m) or fix interval (s) than their own: how the
  // engine holds up beyond the seeded cases (docs/COURSE-ENGINE.md).
  const noiseM = values.noise === undefined ? undefined : Number(values.noise);
  const intervalSec = values.interval === undefined ? undefined : Number(values.interval);
  if (noiseM !== undefined && !(noiseM >= 0 && noiseM <= 100)) throw new Error(`--noise must be metres from 0 to 100\n${usage}`);
  if (intervalSec !== undefined && !(intervalSec >= 1 && intervalSec <= 3600)) throw new Error(`--interval must be seconds from 1 to 3600\n${usage}`);
  // (And a share of fixes thrown 50-150 m off, or fixes that state no accuracy, as some apps send.)
  const outlierShare = values.outliers === undefined ? undefined : Number(values.outliers);
  if (outlierShare !== undefined && !(outlierShare >= 0 && outlierShare <= 0.5)) throw new Error(`--outliers must be a share from 0 to 0.5\n${usage}`);
  const chosen = scenarios
    .filter((s) => values.only === undefined || s.name.includes(values.only))
    .map((s) => ({
      ...s,
      ...(noiseM === undefined ? {} : { noiseM }),
      ...(intervalSec === undefined ? {} : { intervalSec }),
      ...(outlierShare === undefined ? {} : { outlierShare }),
      ...(values['no-accuracy'] ? { reportsAccuracy: false } : {}),
    }));
  if (chosen.length === 0) throw new Error(`no scenario matches "${values.only}"; scenarios: ${scenarios.map((s) => s.name).join(', ')}`);
  if (values.seeds !== undefined) {
    // Robustness: every scenario and variant on many seeds, engine only (the baseline is slow and not in question).
    const count = Number(values.seeds);
    if (!Number.isInteger(count) || count < 1) throw new Error(`--seeds must be a whole number\n${usage}`);
    process.stdout.write(
      `seeds ${seed} to ${seed + count - 1}, engine only. Per scenario and variant: seeds under 99.5% within 20 m and the worst share; runs with a wrong lap; ` +
        'false finishes; backward steps; the furthest the published distance was ahead of the truth; runners who crossed and were shown finished; finish and crossing times out of bounds (worst error)\n',
    );
    const allMisses: string[] = [];
    for (const scenario of chosen) {
      for (const variant of VARIANTS) {
        let under = 0;
        let worst = 1;
        let wrongLaps = 0;
        let falseFinishes = 0;
        let backward = 0;
        let crossed = 0;
        let finished = 0;
        let finishOff = 0;
        let crossingOff = 0;
        let crossings = 0;
        let worstFinishSec = 0;
        let worstCrossingSec = 0;
        let aheadM = 0;
        for (let s = seed; s < seed + count; s++) {
          const { engine, misses } = runScenario(scenario, s, 0, variant);
          if (engine.within20Share < 0.995) under++;
          worst = Math.min(worst, engine.within20Share);
          if (engine.lapsExactShare !== null && engine.lapsExactShare < 1) wrongLaps++;
          falseFinishes += engine.falseFinishes;
          backward += engine.backwardSteps;
          crossed += engine.crossed;
          finished += engine.finishedRunners;
          finishOff += engine.finishTimesOff;
          crossingOff += engine.crossingTimesOff;
          crossings += engine.crossingTimes;
          worstFinishSec = Math.max(worstFinishSec, engine.finishTimeMaxErrorSec);
          worstCrossingSec = Math.max(worstCrossingSec, engine.crossingMaxErrorSec);
          aheadM = Math.max(aheadM, engine.maxAheadM);
          allMisses.push(...misses);
        }
        process.stdout.write(
          `${scenario.name.padEnd(30)} ${variant.padEnd(8)} under ${String(under).padStart(2)}/${count} worst ${(worst * 100).toFixed(2).padStart(6)}%  ` +
            `wrong lap ${wrongLaps}/${count}  false fin. ${falseFinishes}  backward ${backward}  ahead ${aheadM.toFixed(0)} m  finished ${finished}/${crossed}  ` +
            `finish times off ${finishOff} (worst ${worstFinishSec.toFixed(1)} s)  crossings off ${crossingOff}/${crossings} (worst ${worstCrossingSec.toFixed(1)} s)\n`,
        );
      }
    }
    printMisses(allMisses, missLines);
    return;
  }
  const results: ScenarioResult[] = [];
  for (const [i, scenario] of chosen.entries()) {
    for (const variant of VARIANTS) {
      if (!values.json) process.stderr.write(`[${i + 1}/${chosen.length}] ${scenario.name} (${variant})…\n`);
      results.push(runScenario(scenario, seed + i, 300, variant));
    }
  }
  const missed = missedTargets(results);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ seed, accurateWithinM: 20, results, missedTargets: missed }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `${formatTable(results)}\n\nseed ${seed}. Targets: >= 99.5% within 20 m on every scenario, 100% exact laps, every runner who crossed shown finished, ` +
      `finish and crossing times within 5 s (fixes every 10 s or less) or one fix interval, 0 false finishes, 0 backward steps.\n`,
  );
  process.stdout.write(missed.length === 0 ? 'All targets met.\n' : `Missed:\n  ${missed.join('\n  ')}\n`);
  printMisses(results.flatMap((r) => r.misses), missLines);
}

function printMisses(misses: string[], limit: number): void {
  if (misses.length === 0) return;
  process.stdout.write(`\nThe misses (${misses.length}; the first ${Math.min(limit, misses.length)}, --misses N for more):\n  ${misses.slice(0, limit).join('\n  ')}\n`);
}

async function demo(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8080' },
      speed: { type: 'string', default: '1' },
      'organiser-token': { type: 'string' },
      seed: { type: 'string', default: '442' },
    },
  });
  const speed = Number(values.speed);
  const seed = Number(values.seed);
  if (!(speed > 0) || !Number.isInteger(seed)) throw new Error(`--speed must be positive and --seed a whole number\n${usage}`);
  const event = await loadEventFile(positionals[0] ?? DEMO_EVENT_FILE);
  const configResponse = (await (await fetch(`${values.url}/api/config`)).json()) as Ack<ClientConfig>;
  if (!configResponse.ok) throw new Error(`the server refused its configuration: ${configResponse.message}`);
  const serverNowMs = configResponse.data.serverNowMs;
  const token = values['organiser-token'];
  const response = await fetch(`${values.url}/api/races`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const body = (await response.json()) as Ack<{ races: RaceSummary[] }>;
  if (!body.ok) throw new Error(`the server refused the race list: ${body.message}`);
  const starts = new Map(body.data.races.map((r) => [r.raceId, r.startsAtMs]));
  // Private races are listed only to organisers; without the token they are left out.
  const races = event.races.filter((r) => starts.has(r.raceId));
  const skipped = event.races.length - races.length;
  const simulation = startDemoSimulation({
    url: values.url,
    event: { ...event, races },
    raceStartMs: (raceId) => starts.get(raceId)!,
    // A sped-up server clock is ahead of the wall clock: run ours from the server's time.
    clock: speed === 1 ? systemClock : scaledClock(speed, serverNowMs),
    speed,
    seed,
    onError: (message) => process.stderr.write(`${message}\n`),
  });
  process.stdout.write(
    `simulating ${races.reduce((n, r) => n + r.participants.length, 0)} runners in ${races.length} races against ${values.url}` +
      (skipped > 0 ? ` (${skipped} private races left out: pass --organiser-token)` : '') +
      '\n',
  );
  const timer = setInterval(() => {
    const s = simulation.stats();
    process.stdout.write(`connected ${s.connected}, fixes sent ${s.sent}, accepted ${s.accepted}, refused ${s.refused}\n`);
  }, 5000);
  process.on('SIGINT', () => {
    clearInterval(timer);
    simulation.stop();
    process.exit(0);
  });
}

const [command, ...rest] = process.argv.slice(2);
async function closures(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, seed: { type: 'string', default: '1' }, tick: { type: 'string', default: '10' } },
  });
  const seed = Number(values.seed);
  const tickSec = Number(values.tick);
  if (!Number.isInteger(seed) || !(tickSec >= 1)) throw new Error(`--seed must be a whole number and --tick at least 1\n${usage}`);
  const result = runClosures(await loadEventFile(DEMO_EVENT_FILE), { seed, tickSec });
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatClosures(result)}\n`);
}

async function eta(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, seed: { type: 'string', default: '1' }, runners: { type: 'string', default: '60' } },
  });
  const seed = Number(values.seed);
  const runners = Number(values.runners);
  if (!Number.isInteger(seed) || !Number.isInteger(runners) || runners < 1) throw new Error(`--seed and --runners must be whole numbers\n${usage}`);
  const figures = runEta(seed, runners);
  process.stdout.write(values.json ? `${JSON.stringify(figures, null, 2)}\n` : `${formatEta(figures)}\n`);
}

const commands: Record<string, (argv: string[]) => Promise<void>> = { demo, accuracy, closures, eta };
const run = command === undefined ? undefined : commands[command];
if (!run) {
  process.stderr.write(`${usage}\n`);
  process.exit(2);
}
run(rest).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
