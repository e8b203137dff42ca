import { CONTRACT_LEASE_TTL_MS, storeContract } from '../contract/stores.contract.ts';
import { createMemoryStores, type MemoryRaceLeases } from '../../server/ports/stores.ts';

storeContract('in-memory', async () => {
  const stores = createMemoryStores({ holderId: 'me', leaseTtlMs: CONTRACT_LEASE_TTL_MS });
  return { stores, otherLeases: (stores.leases as MemoryRaceLeases).forHolder('other'), close: () => stores.close() };
});
