// Measures what one stored customer costs on libSQL (file: database, dbstat) and how fast 1,000-row
// chunks go in, for docs/scaling.md. The byte budget below fails the suite if a schema change makes a
// customer row markedly bigger; the printed line carries the figures the document quotes.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { createCampaignsRepository } from "../../src/db/campaigns-repository";
import { createCustomersRepository } from "../../src/db/customers-repository";
import { applyMigrations, readMigrations } from "../../src/db/migrator";
import { openNodeStore } from "../../src/db/store-node";
import { createTenancyRepository } from "../../src/db/tenancy-repository";
import { newId } from "../../src/domain/ids";
import { measuredLoanRows } from "../contract/repository-contract";
import { insertChunk } from "../support/chunks";

/** Bytes per customer (table row + uniqueness index entry, page overhead included) we accept. */
const BYTES_PER_CUSTOMER_BUDGET = 256;
const CUSTOMERS = 10_000;
const CHUNK = 1_000;

let folder: string | undefined;
afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

it(`a stored customer costs under ${BYTES_PER_CUSTOMER_BUDGET} bytes on libSQL (${CUSTOMERS} customers)`, async () => {
  folder = await mkdtemp(join(tmpdir(), "bulkcall-footprint-"));
  const { client, db } = openNodeStore(`file:${join(folder, "footprint.db")}`);
  await applyMigrations(client, await readMigrations("migrations"));
  const orgId = newId("org");
  await createTenancyRepository(db).createOrganization({
    id: orgId,
    name: "Footprint",
    createdAt: Date.now(),
  });
  const campaign = await createCampaignsRepository(db).createCampaign({
    organizationId: orgId,
    id: "emi",
    name: "EMI reminders",
    campaignType: "emi",
    timezone: "Asia/Kolkata",
    defaultCountry: "IN",
    callingWindow: { start: "09:00", end: "19:00", days: ["mon", "tue", "wed", "thu", "fri"] },
    workflow: null,
    createdAt: Date.now(),
  });
  const customers = createCustomersRepository(db);

  const usage = async () => {
    const rs = await client.execute(
      `SELECT name, SUM(pgsize) AS bytes, SUM(payload) AS payload FROM dbstat
       WHERE name IN ('customers', 'customers_campaign_key') GROUP BY name`,
    );
    const of = (name: string, column: "bytes" | "payload") =>
      Number(rs.rows.find((r) => r.name === name)?.[column] ?? 0);
    return {
      table: of("customers", "bytes"),
      index: of("customers_campaign_key", "bytes"),
      payload: of("customers", "payload") + of("customers_campaign_key", "payload"),
    };
  };

  const before = await usage();
  const importId = newId("imp");
  const started = performance.now();
  for (let first = 0; first < CUSTOMERS; first += CHUNK) {
    const added = await insertChunk(
      customers,
      campaign!.pk,
      importId,
      Date.now(),
      measuredLoanRows(CHUNK, first),
    );
    expect(added.size).toBe(CHUNK);
  }
  const seconds = (performance.now() - started) / 1000;
  const after = await usage();

  const perCustomer = (after.table + after.index - before.table - before.index) / CUSTOMERS;
  const payloadPerCustomer = (after.payload - before.payload) / CUSTOMERS;
  const pageSize = Number((await client.execute("PRAGMA page_size")).rows[0]?.page_size);
  const pageCount = Number((await client.execute("PRAGMA page_count")).rows[0]?.page_count);
  console.info(
    JSON.stringify({
      measurement: "customer_footprint",
      store: "libSQL file:",
      customers: CUSTOMERS,
      bytesPerCustomer: Math.round(perCustomer),
      tableBytesPerCustomer: Math.round((after.table - before.table) / CUSTOMERS),
      indexBytesPerCustomer: Math.round((after.index - before.index) / CUSTOMERS),
      payloadBytesPerCustomer: Math.round(payloadPerCustomer),
      databaseBytes: pageSize * pageCount,
      customersPerSecond: Math.round(CUSTOMERS / seconds),
      chunk: CHUNK,
    }),
  );
  // Page overhead makes a stored customer cost more than its raw payload, never less.
  expect(perCustomer).toBeGreaterThan(payloadPerCustomer);
  expect(perCustomer).toBeLessThan(BYTES_PER_CUSTOMER_BUDGET);
  client.close();
});
