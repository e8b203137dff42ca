// Real server processes, for the fault tests and the load benchmark: `server/main.ts` (or another
// entry point) started as its own Node process on a free port, killed with a real signal.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface ServerProcess {
  url: string;
  /** The lease holder id this process uses. */
  holderId: string;
  child: ChildProcess;
  /** What the process wrote to stderr, for the failure message. */
  stderr(): string;
  /** What it wrote to stdout (its start-up banner). */
  stdout(): string;
  /** Resolves with the exit code or signal once the process has ended. */
  exited: Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<string>;
}

/** An event document as a file a process can load, with the demo's course files beside it. */
export function writeEventFile(json: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'event-'));
  symlinkSync(join(ROOT, 'server/demo/courses'), join(dir, 'courses'));
  const file = join(dir, 'event.json');
  writeFileSync(file, JSON.stringify(json));
  return file;
}

/**
 * Starts the server on `eventFile` without simulated runners and waits for it to print its
 * address. `entry` is the script to run, relative to the project (default the real server).
 */
export async function startServerProcess(
  eventFile: string,
  env: Record<string, string>,
  options: { entry?: string; nodeArgs?: string[] } = {},
): Promise<ServerProcess> {
  const script = join(ROOT, options.entry ?? 'server/main.ts');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', script, eventFile, '--no-simulate'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))));
  const started = await new Promise<{ url: string; holderId: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 30 s:\n${err}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /Spectator map:\s+(http:\/\/\S+?)\/\s/.exec(out)?.[1];
      const holderId = /process (\S+)/.exec(out)?.[1];
      if (url && (holderId || !env['REDIS_URL'])) {
        clearTimeout(timer);
        resolve({ url, holderId: holderId ?? '' });
      }
    });
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${how}) before it started:\n${err}`));
    });
  });
  return {
    ...started,
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A Redis server of a test's own, so it can be killed and started again. */
export async function startOwnRedis(): Promise<{ url: string; stop(): Promise<void>; restart(): Promise<void> }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  // Every write synced: a restart keeps all that was acknowledged.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
  let child = spawn('redis-server', args, { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const waitUp = async () => {
    for (let i = 0; i < 100; i++) {
      const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error('the test Redis did not start');
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
  await waitUp();
  return {
    url,
    stop,
    restart: async () => {
      await stop();
      child = spawn('redis-server', args, { stdio: 'ignore' });
      await waitUp();
    },
  };
}
