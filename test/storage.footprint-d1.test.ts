// Measures what one stored customer costs on local D1 (the database size D1 reports after a write)
// and how fast 1,000-row chunks go in through the Worker's D1 binding, for docs/scaling.md. The
// libSQL counterpart is test/libsql/storage.footprint.test.ts.
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { createCampaignsRepository } from "../src/db/campaigns-repository";
import { createD1Db } from "../src/db/client";
import { createCustomersRepository } from "../src/db/customers-repository";
import { createTenancyRepository } from "../src/db/tenancy-repository";
import { newId } from "../src/domain/ids";
import { measuredLoanRows } from "./contract/repository-contract";
import { insertChunk } from "./support/chunks";

/** Bytes per customer (row, uniqueness index, page overhead) we accept; see docs/scaling.md. */
const BYTES_PER_CUSTOMER_BUDGET = 256;
const CUSTOMERS = 10_000;
const CHUNK = 1_000;

it(`a stored customer costs under ${BYTES_PER_CUSTOMER_BUDGET} bytes on local D1 (${CUSTOMERS} customers)`, async () => {
  const db = createD1Db(env.DB);
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
  const size = async () => {
    const { meta } = await env.DB.prepare("SELECT 1").run();
    return Number(meta.size_after);
  };

  const before = await size();
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
  const after = await size();

  const perCustomer = (after - before) / CUSTOMERS;
  console.info(
    JSON.stringify({
      measurement: "customer_footprint",
      store: "D1 (local)",
      customers: CUSTOMERS,
      bytesPerCustomer: Math.round(perCustomer),
      databaseBytes: after,
      customersPerSecond: Math.round(CUSTOMERS / seconds),
      chunk: CHUNK,
    }),
  );
  expect(before).toBeGreaterThan(0);
  expect(perCustomer).toBeGreaterThan(100);
  expect(perCustomer).toBeLessThan(BYTES_PER_CUSTOMER_BUDGET);
});
