// Writing a chunk as the intake does for a request that skips the keys a campaign holds, for the
// tests that then look at the rows by id. The repository tells only which keys a chunk added
// (the intake needs no more); this reads their ids back.
import { keyOfRow } from "../../src/db/customer-rows";
import type {
  ChunkHandOff,
  CustomersRepository,
  LeaseRenewal,
} from "../../src/domain/ports/customers-repository";

/**
 * CustomersRepository.upsertChunk with onExisting "skip": dedupe key -> customer id of the rows
 * the write added, in the rows' order. Throws as upsertChunk does.
 */
export async function insertChunk(
  customers: CustomersRepository,
  campaignPk: number,
  importId: string,
  createdAt: number,
  encodedRows: readonly string[],
  handOff?: ChunkHandOff,
  lease?: LeaseRenewal,
): Promise<Map<string, number>> {
  const { added } = await customers.upsertChunk(campaignPk, importId, createdAt, encodedRows, {
    onExisting: "skip",
    handOff,
    stopsPaid: false,
    leaseExpiredBefore: 0,
    lease,
  });
  const keys = encodedRows.map(keyOfRow).filter((key) => added === "every" || added.has(key));
  const ids = await customers.findOwn(campaignPk, importId, keys);
  return new Map(keys.map((key) => [key, ids.get(key) as number]));
}
