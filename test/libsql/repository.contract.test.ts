// The repository contract on libSQL through the Node client: a file: database in a temporary folder
// and a :memory: one, both migrated from migrations/ by the same migrator `npm run db:migrate:libsql`
// uses. The same suite runs on D1 in test/repository.contract-d1.test.ts.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { applyMigrations, readMigrations } from "../../src/db/migrator";
import { type NodeStore, openNodeStore } from "../../src/db/store-node";
import { repositoryContract } from "../contract/repository-contract";

const opened: NodeStore[] = [];
const folders: string[] = [];

async function migrated(url: string) {
  const store = openNodeStore(url);
  opened.push(store);
  await applyMigrations(store.client, await readMigrations("migrations"));
  return store.db;
}

afterAll(async () => {
  for (const s of opened) s.client.close();
  await Promise.all(folders.map((f) => rm(f, { recursive: true, force: true })));
});

repositoryContract("libSQL file: database", async () => {
  const folder = await mkdtemp(join(tmpdir(), "bulkcall-contract-"));
  folders.push(folder);
  return migrated(`file:${join(folder, "contract.db")}`);
});

repositoryContract("libSQL :memory: database", async () => migrated(":memory:"));
