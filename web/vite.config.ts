// The web pages, built into web/dist and served by the server. `npm run build` builds them;
// during development, `npx vite --config web/vite.config.ts` serves them with the API proxied.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const serverUrl = 'http://127.0.0.1:8080';

export default defineConfig({
  root,
  base: '/',
  build: {
    outDir: 'dist',
    rollupOptions: {
      input: {
        spectator: `${root}index.html`,
        runner: `${root}runner.html`,
        setup: `${root}setup.html`,
        follow: `${root}follow.html`,
        organiser: `${root}organiser.html`,
      },
    },
    emptyOutDir: true,
    // The map libraries are large by nature; each is loaded only on the path that needs it.
    chunkSizeWarningLimit: 2500,
  },
  server: {
    proxy: {
      '/api': serverUrl,
      '/healthz': serverUrl,
      '/socket.io': { target: serverUrl, ws: true },
    },
  },
});
