// Entry of the load benchmark's runner thread: worker threads do not inherit tsx's loader, so
// this registers it and then loads the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./load-runners.ts');
