// The course reader thread's entry: a worker starts without the server's TypeScript loader, so it
// registers tsx itself, then runs the TypeScript worker (server/event/course-worker.ts).
import { register } from 'tsx/esm/api';

register();
await import('./course-worker.ts');
