// Builds the web pages once before the suite, as `npm start` does, so the browser tests load
// exactly what a user would.
import { build } from 'vite';

export default async function setup(): Promise<void> {
  await build({ configFile: new URL('../../web/vite.config.ts', import.meta.url).pathname, logLevel: 'warn' });
}
