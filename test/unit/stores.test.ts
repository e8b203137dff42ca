import { storeContract } from '../contract/stores.contract.ts';
import { createMemoryStores } from '../../server/ports/stores.ts';

storeContract('in-memory', async () => createMemoryStores());
