// The behaviour bulkcall needs from its store, written once and run against every store: D1 inside
// workerd (test/repository-contract-d1.test.ts) and libSQL in Node on a file: and a :memory:
// database (test/libsql/repository-contract.test.ts). A difference between the drivers shows up
// here as the same test passing on one store and failing on the other.
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createCampaignsRepository } from "../../src/db/campaigns-repository";
import type { Db } from "../../src/db/client";
import { createCustomersRepository, encodeCustomerRow } from "../../src/db/customers-repository";
import { createImportsRepository } from "../../src/db/imports-repository";
import { createOutboxRepository } from "../../src/db/outbox-repository";
import { organizations } from "../../src/db/schema";
import { createTenancyRepository } from "../../src/db/tenancy-repository";
import { createWorkflowRunsRepository, workflowInstanceId } from "../../src/db/workflow-runs-repository";
import type { NormalizedRecord } from "../../src/domain/model/customer";

/** A first name the test trigger refuses, to make one row of a chunk fail inside the database. */
export const REFUSED_FIRST_NAME = "__contract_refused__";

const T0 = 1_700_000_000_000;

function repositories(db: Db) {
  return {
    tenancy: createTenancyRepository(db),
    campaigns: createCampaignsRepository(db),
    customers: createCustomersRepository(db),
    imports: createImportsRepository(db),
    outbox: createOutboxRepository(db),
    workflowRuns: createWorkflowRunsRepository(db),
  };
}

/** A loan record with every field the contract allows, as validation hands it to storage. */
export function fullLoanRecord(i: number, overrides: Partial<NormalizedRecord> = {}): NormalizedRecord {
  return {
    loan_id: `LN-${String(i).padStart(6, "0")}`,
    first_name: "Asha",
    last_name: "Rao",
    phone_number: `+9198${String(10_000_000 + i).slice(-8)}`,
    loan_amount: 250000.5,
    emi_amount: 12500,
    loan_period: 24,
    current_emi: 5,
    emi_due_date: "2026-12-05",
    payment_status: "pending",
    language: "hindi",
    variables: { branch: "Pune", vip: true, score: 712 },
    ...overrides,
  };
}

/**
 * Positional rows of the bulk endpoint's loan record (test/helpers.ts loanRecord: every loan field,
 * no extra variables) as validation stores them, phone in E.164: the row the storage figures in
 * docs/scaling.md are measured with.
 */
export function measuredLoanRows(count: number, first = 0): string[] {
  return Array.from({ length: count }, (_, n) => {
    const i = first + n;
    const record: NormalizedRecord = {
      loan_id: `LN-${String(i).padStart(6, "0")}`,
      first_name: "Asha",
      last_name: "Rao",
      phone_number: `+9198${String(10_000_000 + i).slice(-8)}`,
      loan_amount: 250000,
      emi_amount: 12500,
      loan_period: 24,
      current_emi: 5,
      emi_due_date: "2026-12-05",
      payment_status: "pending",
      language: "hindi",
    };
    return encodeCustomerRow({ dedupeKey: record.loan_id as string, record });
  });
}

const loanRow = (i: number, overrides: Partial<NormalizedRecord> = {}) => {
  const record = fullLoanRecord(i, overrides);
  return encodeCustomerRow({ dedupeKey: record.loan_id as string, record });
};
const keyOf = (i: number) => `LN-${String(i).padStart(6, "0")}`;

export function repositoryContract(storeName: string, openDb: () => Promise<Db>): void {
  describe(`repository contract on ${storeName}`, () => {
    let db: Db;
    let repos: ReturnType<typeof repositories>;

    beforeAll(async () => {
      db = await openDb();
      repos = repositories(db);
      // Created through the Db under test, like any other statement: the store itself refuses the row
      // mid-statement, after the rows before it in the same chunk were inserted.
      await db.run(
        sql.raw(`CREATE TRIGGER IF NOT EXISTS contract_refuse_marked_customer BEFORE INSERT ON customers
          WHEN NEW.first_name = '${REFUSED_FIRST_NAME}'
          BEGIN SELECT RAISE(ABORT, 'contract: marked customer refused'); END`),
      );
    });

    async function tenant() {
      const orgId = `org_${crypto.randomUUID()}`;
      await repos.tenancy.createOrganization({ id: orgId, name: "Contract Lender", createdAt: T0 });
      const campaign = async (id: string, campaignType: "emi" | "lead") => {
        const c = await repos.campaigns.createCampaign({
          organizationId: orgId,
          id,
          name: `Campaign ${id}`,
          campaignType,
          timezone: "Asia/Kolkata",
          defaultCountry: "IN",
          callingWindow: { start: "09:00", end: "19:00", days: ["mon", "tue"] },
          workflow: null,
          createdAt: T0,
        });
        if (!c) throw new Error(`campaign ${id} was not created`);
        return c;
      };
      return { orgId, emi: await campaign("emi", "emi"), lead: await campaign("lead", "lead") };
    }

    describe("chunk atomicity", () => {
      it("a chunk refused by the database leaves none of its rows, and earlier chunks stay", async () => {
        const t = await tenant();
        const first = await repos.customers.insertChunk(t.emi.pk, "imp_ok", T0, [loanRow(1), loanRow(2)]);
        expect([...first.keys()]).toEqual([keyOf(1), keyOf(2)]);

        await expect(
          repos.customers.insertChunk(t.emi.pk, "imp_bad", T0, [
            loanRow(3),
            loanRow(4),
            loanRow(5, { first_name: REFUSED_FIRST_NAME }),
            loanRow(6),
          ]),
        ).rejects.toThrow(/marked customer refused/);

        const stored = await repos.customers.list(t.emi.pk, 100);
        expect(stored.map((c) => [c.loanId, c.importId])).toEqual([
          [keyOf(1), "imp_ok"],
          [keyOf(2), "imp_ok"],
        ]);
        // The refused chunk claimed none of its keys: the same rows go in on a retry.
        const retry = await repos.customers.insertChunk(t.emi.pk, "imp_retry", T0, [
          loanRow(3),
          loanRow(4),
          loanRow(6),
        ]);
        expect([...retry.keys()]).toEqual([keyOf(3), keyOf(4), keyOf(6)]);
      });

      it("chunks written concurrently succeed or fail independently", async () => {
        const t = await tenant();
        const outcomes = await Promise.allSettled([
          repos.customers.insertChunk(t.emi.pk, "imp", T0, [loanRow(10), loanRow(11)]),
          repos.customers.insertChunk(t.emi.pk, "imp", T0, [
            loanRow(12),
            loanRow(13, { first_name: REFUSED_FIRST_NAME }),
          ]),
          repos.customers.insertChunk(t.emi.pk, "imp", T0, [loanRow(14)]),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
        const stored = await repos.customers.list(t.emi.pk, 100);
        expect(stored.map((c) => c.loanId).sort()).toEqual([keyOf(10), keyOf(11), keyOf(14)]);
      });

      it("a batch of several statements is all-or-nothing", async () => {
        const t = await tenant();
        const newOrg = `org_${crypto.randomUUID()}`;
        await expect(
          db.batch([
            db.insert(organizations).values({ id: newOrg, name: "Would be new", createdAt: T0 }),
            // Same primary key as an existing organization: the second statement fails.
            db.insert(organizations).values({ id: t.orgId, name: "Clash", createdAt: T0 }),
          ]),
        ).rejects.toThrow();
        expect(await repos.tenancy.findOrganization(newOrg)).toBeUndefined();
        expect((await repos.tenancy.findOrganization(t.orgId))?.name).toBe("Contract Lender");
      });

      it("writes a chunk of 1,000 full records as one statement and returns an id for each", async () => {
        const t = await tenant();
        const rows = Array.from({ length: 1_000 }, (_, i) => loanRow(100_000 + i));
        const added = await repos.customers.insertChunk(t.emi.pk, "imp_big", T0, rows);
        expect(added.size).toBe(1_000);
        const ids = [...added.values()];
        expect(new Set(ids).size).toBe(1_000);
        const stored = await repos.customers.list(t.emi.pk, 1_000);
        expect(stored.map((c) => c.id)).toEqual([...ids].sort((a, b) => a - b));
      });

      it("refuses customers of a campaign that does not exist (foreign keys are enforced)", async () => {
        await expect(
          repos.customers.insertChunk(2_000_000_000, "imp_orphan", T0, [loanRow(1)]),
        ).rejects.toThrow(/FOREIGN KEY/i);
      });
    });

    describe("raw SQL through the Db", () => {
      it("returns the RETURNING rows of raw statements in a batch, by column name", async () => {
        const ids = [`org_${crypto.randomUUID()}`, `org_${crypto.randomUUID()}`];
        const [inserted] = await db.batch([
          db.all<{ id: string; name: string }>(sql`INSERT INTO organizations (id, name, created_at)
            SELECT value, 'Raw', ${T0} FROM json_each(${JSON.stringify(ids)}) WHERE true
            ON CONFLICT (id) DO NOTHING
            RETURNING id, name`),
          db.run(sql`UPDATE organizations SET name = 'Raw updated' WHERE id = ${ids[0]}`),
        ]);
        expect(inserted.map((r) => [r.id, r.name]).sort()).toEqual(ids.map((id) => [id, "Raw"]).sort());
        expect((await repos.tenancy.findOrganization(ids[0] as string))?.name).toBe("Raw updated");
        const counted = await db.get<{ n: number }>(
          sql`SELECT count(*) AS n FROM organizations WHERE id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`,
        );
        expect(counted).toEqual({ n: 2 });
      });
    });

    describe("duplicate detection (ON CONFLICT DO NOTHING RETURNING)", () => {
      it("returns only the rows that were new and leaves the stored ones untouched", async () => {
        const t = await tenant();
        const a = await repos.customers.insertChunk(t.emi.pk, "imp_a", T0, [loanRow(1), loanRow(2)]);
        const b = await repos.customers.insertChunk(t.emi.pk, "imp_b", T0 + 1, [
          loanRow(2, { first_name: "Changed" }),
          loanRow(3),
        ]);
        expect([...b.keys()]).toEqual([keyOf(3)]);

        const stored = await repos.customers.list(t.emi.pk, 100);
        expect(stored.map((c) => [c.id, c.loanId, c.firstName, c.importId])).toEqual([
          [a.get(keyOf(1)), keyOf(1), "Asha", "imp_a"],
          [a.get(keyOf(2)), keyOf(2), "Asha", "imp_a"],
          [b.get(keyOf(3)), keyOf(3), "Asha", "imp_b"],
        ]);
      });

      it("a key is unique per campaign: another campaign may hold the same key", async () => {
        const t = await tenant();
        const other = await repos.campaigns.createCampaign({
          organizationId: t.orgId,
          id: "emi-2",
          name: "Second",
          campaignType: "emi",
          timezone: "Asia/Kolkata",
          defaultCountry: "IN",
          callingWindow: { start: "09:00", end: "19:00", days: ["mon"] },
          workflow: null,
          createdAt: T0,
        });
        await repos.customers.insertChunk(t.emi.pk, "imp", T0, [loanRow(1)]);
        const again = await repos.customers.insertChunk(other!.pk, "imp", T0, [loanRow(1)]);
        expect([...again.keys()]).toEqual([keyOf(1)]);
      });

      it("stores every field and reads it back with the same types", async () => {
        const t = await tenant();
        const loan = await repos.customers.insertChunk(t.emi.pk, "imp_full", T0 + 7, [loanRow(42)]);
        const lead: NormalizedRecord = {
          lead_id: "LEAD-9",
          first_name: "Ravi",
          phone_number: "+14155550100",
          lead_date: "2026-11-30",
        };
        const leads = await repos.customers.insertChunk(t.lead.pk, "imp_lead", T0 + 8, [
          encodeCustomerRow({ dedupeKey: "LEAD-9", record: lead }),
        ]);

        const [storedLoan] = await repos.customers.list(t.emi.pk, 10);
        expect(storedLoan).toEqual({
          id: loan.get(keyOf(42)),
          campaignPk: t.emi.pk,
          dedupeKey: keyOf(42),
          loanId: keyOf(42),
          leadId: null,
          firstName: "Asha",
          lastName: "Rao",
          phoneNumber: "+919810000042",
          loanAmount: 250000.5,
          emiAmount: 12500,
          loanPeriod: 24,
          currentEmi: 5,
          emiDueDate: "2026-12-05",
          paymentStatus: "pending",
          language: "hindi",
          leadDate: null,
          variables: { branch: "Pune", vip: true, score: 712 },
          importId: "imp_full",
          createdAt: T0 + 7,
        });
        const [storedLead] = await repos.customers.findByIds([leads.get("LEAD-9") as number]);
        expect(storedLead).toMatchObject({
          leadId: "LEAD-9",
          loanId: null,
          firstName: "Ravi",
          lastName: null,
          loanAmount: null,
          loanPeriod: null,
          leadDate: "2026-11-30",
          variables: {},
        });
      });
    });

    describe("idempotency records", () => {
      const begin = (orgId: string, campaignPk: number, id: string, key: string | null, createdAt: number) =>
        repos.imports.begin({
          id,
          organizationId: orgId,
          campaignPk,
          idempotencyKey: key,
          bodyHash: key === null ? null : `hash-${key}`,
          state: "processing",
          total: 3,
          createdAt,
        });

      it("one request per (organization, key) claims it; requests without a key never clash", async () => {
        const t = await tenant();
        const u = await tenant();
        expect(await begin(t.orgId, t.emi.pk, "imp_1", "key-A", T0)).toBe(true);
        expect(await begin(t.orgId, t.emi.pk, "imp_2", "key-A", T0)).toBe(false);
        expect(await begin(u.orgId, u.emi.pk, "imp_3", "key-A", T0)).toBe(true);
        expect(await begin(t.orgId, t.emi.pk, "imp_4", null, T0)).toBe(true);
        expect(await begin(t.orgId, t.emi.pk, "imp_5", null, T0)).toBe(true);

        expect((await repos.imports.findByIdempotencyKey(t.orgId, "key-A"))?.id).toBe("imp_1");
        expect((await repos.imports.findByIdempotencyKey(u.orgId, "key-A"))?.id).toBe("imp_3");
        expect(await repos.imports.find(t.orgId, "imp_2")).toBeUndefined();
      });

      it("completes a request and keeps its stored answer (in parts) and counts", async () => {
        const t = await tenant();
        await begin(t.orgId, t.emi.pk, "imp_done", "key-done", T0);
        const counts = { total: 3, valid: 2, invalid: 1, successful: 2, failed: 1, batchesProcessed: 1 };
        // Larger than one part: the answer is split and joined back in order.
        const packed = `${"a".repeat(1_000_000)}${"b".repeat(1_000_000)}c`;
        expect(
          await repos.imports.complete("imp_done", 1, counts, { status: 207, body: packed }, T0 + 5),
        ).toBe(true);
        expect(await repos.imports.find(t.orgId, "imp_done")).toMatchObject({
          ...counts,
          state: "completed",
          responseStatus: 207,
          completedAt: T0 + 5,
          initiateCall: false,
          useWorkflow: false,
        });
        expect(await repos.imports.storedResponse("imp_done")).toBe(packed);

        await begin(t.orgId, t.emi.pk, "imp_nokey", null, T0);
        await repos.imports.complete("imp_nokey", 1, counts, { status: 207, body: null }, T0 + 5);
        expect(await repos.imports.storedResponse("imp_nokey")).toBeUndefined();
      });

      it("hands a failed or abandoned attempt to exactly one retry, never a running or completed one", async () => {
        const t = await tenant();
        await begin(t.orgId, t.emi.pk, "imp_old", "key-old", T0);
        expect(await repos.imports.claimForRetry("imp_old", T0, T0 + 1)).toBeUndefined(); // not older than the cut-off
        expect(await repos.imports.claimForRetry("imp_old", T0 + 1, T0 + 2)).toBe(2);
        // The retry restarted the attempt's clock: it is not abandoned again at the old cut-off.
        expect(await repos.imports.claimForRetry("imp_old", T0 + 1, T0 + 3)).toBeUndefined();
        expect((await repos.imports.findByIdempotencyKey(t.orgId, "key-old"))?.id).toBe("imp_old");

        await begin(t.orgId, t.emi.pk, "imp_failed", "key-failed", T0);
        await repos.imports.markFailed("imp_failed", 1, T0 + 1);
        expect((await repos.imports.find(t.orgId, "imp_failed"))?.state).toBe("failed");
        const claims = await Promise.all([
          repos.imports.claimForRetry("imp_failed", T0 - 1, T0 + 2),
          repos.imports.claimForRetry("imp_failed", T0 - 1, T0 + 2),
        ]);
        expect(claims.filter((c) => c !== undefined)).toEqual([2]);

        await begin(t.orgId, t.emi.pk, "imp_finished", "key-fin", T0);
        const counts = { total: 0, valid: 0, invalid: 0, successful: 0, failed: 0, batchesProcessed: 0 };
        await repos.imports.complete("imp_finished", 1, counts, { status: 201, body: "{}" }, T0);
        await repos.imports.markFailed("imp_finished", 1, T0 + 1); // a completed import stays completed
        expect(await repos.imports.claimForRetry("imp_finished", T0 + 10, T0 + 10)).toBeUndefined();
        expect((await repos.imports.find(t.orgId, "imp_finished"))?.state).toBe("completed");
      });

      it("an attempt that was taken over can neither fail nor complete its successor's import", async () => {
        const t = await tenant();
        await begin(t.orgId, t.emi.pk, "imp_fenced", "key-fenced", T0);
        expect(await repos.imports.claimForRetry("imp_fenced", T0 + 1, T0 + 2)).toBe(2); // attempt 1 abandoned
        const counts = { total: 1, valid: 1, invalid: 0, successful: 1, failed: 0, batchesProcessed: 1 };
        // Attempt 1 wakes up late: its failure and its completion are both ignored.
        await repos.imports.markFailed("imp_fenced", 1, T0 + 3);
        expect(
          await repos.imports.complete("imp_fenced", 1, counts, { status: 201, body: "old" }, T0 + 4),
        ).toBe(false);
        expect(await repos.imports.find(t.orgId, "imp_fenced")).toMatchObject({
          state: "processing",
          attempt: 2,
        });
        expect(await repos.imports.storedResponse("imp_fenced")).toBeUndefined();
        // Attempt 2 completes it.
        expect(
          await repos.imports.complete("imp_fenced", 2, counts, { status: 201, body: "new" }, T0 + 5),
        ).toBe(true);
        expect(await repos.imports.storedResponse("imp_fenced")).toBe("new");
      });

      it("expires keys older than the retention window and keeps the imports readable", async () => {
        const t = await tenant();
        // Timestamps far below any real clock, so only this test's rows fall before the cut-off.
        await begin(t.orgId, t.emi.pk, "imp_exp_1", "key-exp-1", 100);
        await begin(t.orgId, t.emi.pk, "imp_exp_2", "key-exp-2", 200);
        await begin(t.orgId, t.emi.pk, "imp_exp_3", "key-exp-3", 900);
        const counts = { total: 0, valid: 0, invalid: 0, successful: 0, failed: 0, batchesProcessed: 0 };
        await repos.imports.complete("imp_exp_1", 1, counts, { status: 201, body: "packed" }, 150);
        await repos.imports.markFailed("imp_exp_2", 1, 250);
        // imp_exp_4 is old but still running: it keeps its key until it ends.
        await begin(t.orgId, t.emi.pk, "imp_exp_4", "key-exp-4", 300);
        expect(await repos.imports.expireIdempotencyKeys(500)).toBe(2);
        expect(await repos.imports.findByIdempotencyKey(t.orgId, "key-exp-1")).toBeUndefined();
        expect((await repos.imports.findByIdempotencyKey(t.orgId, "key-exp-3"))?.id).toBe("imp_exp_3");
        expect((await repos.imports.findByIdempotencyKey(t.orgId, "key-exp-4"))?.id).toBe("imp_exp_4");
        expect(await repos.imports.find(t.orgId, "imp_exp_1")).toMatchObject({ idempotencyKey: null });
        expect(await repos.imports.storedResponse("imp_exp_1")).toBeUndefined();
      });
    });

    describe("outbox", () => {
      async function importFor(t: Awaited<ReturnType<typeof tenant>>, id: string) {
        await repos.imports.begin({
          id,
          organizationId: t.orgId,
          campaignPk: t.emi.pk,
          state: "processing",
          createdAt: T0,
        });
      }

      it("writes each chunk's outbox rows in the chunk's own batch: new customers only, in batches", async () => {
        const t = await tenant();
        await importFor(t, "imp_out");
        const calls = { kind: "call" as const, batchSize: 2 };
        const first = await repos.customers.insertChunk(
          t.emi.pk,
          "imp_out",
          T0,
          [loanRow(1), loanRow(2), loanRow(3)],
          calls,
        );
        // Another import writing in between must not leak into this import's batches.
        await importFor(t, "imp_other");
        await repos.customers.insertChunk(t.emi.pk, "imp_other", T0, [loanRow(50)], calls);
        // A chunk whose records are partly known: only the new one gets a batch.
        const second = await repos.customers.insertChunk(
          t.emi.pk,
          "imp_out",
          T0,
          [loanRow(3), loanRow(4)],
          calls,
        );
        // A chunk that adds nothing adds no batch.
        await repos.customers.insertChunk(t.emi.pk, "imp_out", T0, [loanRow(4)], calls);
        const ids = [...first.values(), ...second.values()];
        expect(ids).toHaveLength(4);

        const rows = await repos.outbox.listForImport("imp_out");
        expect(rows.map((r) => [r.kind, r.batchNo, r.state, r.customerIds, r.size])).toEqual([
          ["call", 0, "pending", ids.slice(0, 2), 2],
          ["call", 1, "pending", ids.slice(2, 3), 1],
          ["call", 2, "pending", ids.slice(3, 4), 1],
        ]);
        expect(rows.every((r) => r.createdAt === T0 && r.sendAttempts === 0)).toBe(true);

        await importFor(t, "imp_wf");
        const wf = await repos.customers.insertChunk(t.emi.pk, "imp_wf", T0, [loanRow(60), loanRow(61)], {
          kind: "workflow",
          batchSize: 500,
        });
        expect(
          (await repos.outbox.listForImport("imp_wf")).map((r) => [r.kind, r.batchNo, r.customerIds]),
        ).toEqual([["workflow", 0, [...wf.values()]]]);
      });

      it("hands every new customer over exactly once when known keys sit between new ones", async () => {
        const t = await tenant();
        await importFor(t, "imp_mixed");
        const calls = { kind: "call" as const, batchSize: 3 };
        const stored = new Map<string, number>();
        const chunks = [
          [loanRow(1), loanRow(2), loanRow(3), loanRow(4)],
          // Known keys between new ones: a row skipped by ON CONFLICT may still take an id.
          [loanRow(2), loanRow(5), loanRow(1), loanRow(6), loanRow(3), loanRow(7), loanRow(4)],
          [loanRow(8), loanRow(5), loanRow(9)],
        ];
        for (const rows of chunks) {
          for (const [k, id] of await repos.customers.insertChunk(t.emi.pk, "imp_mixed", T0, rows, calls)) {
            stored.set(k, id);
          }
        }
        expect(stored.size).toBe(9);
        const handed = (await repos.outbox.listForImport("imp_mixed")).flatMap((r) => r.customerIds);
        expect(handed.sort((a, b) => a - b)).toEqual([...stored.values()].sort((a, b) => a - b));
      });

      it("a failing chunk leaves neither customers nor outbox rows", async () => {
        const t = await tenant();
        await importFor(t, "imp_fail");
        const handOff = { kind: "call" as const, batchSize: 500 };
        await expect(
          repos.customers.insertChunk(
            t.emi.pk,
            "imp_fail",
            T0,
            [loanRow(1), loanRow(2, { first_name: REFUSED_FIRST_NAME })],
            handOff,
          ),
        ).rejects.toThrow();
        expect(await repos.outbox.listForImport("imp_fail")).toEqual([]);
        expect(await repos.customers.findOwn(t.emi.pk, "imp_fail", [keyOf(1)])).toEqual(new Map());
      });

      it("records each send attempt on pending batches only", async () => {
        const t = await tenant();
        await importFor(t, "imp_send");
        const handOff = { kind: "call" as const, batchSize: 1 };
        await repos.customers.insertChunk(
          t.emi.pk,
          "imp_send",
          T0,
          [loanRow(1), loanRow(2), loanRow(3)],
          handOff,
        );

        await repos.outbox.recordSendOutcome("imp_send", "call", [0, 2], { sent: true }, T0 + 10);
        await repos.outbox.recordSendOutcome(
          "imp_send",
          "call",
          [1],
          { sent: false, error: "queue full" },
          T0 + 11,
        );
        let rows = await repos.outbox.listForImport("imp_send");
        expect(rows.map((r) => [r.batchNo, r.state, r.sendAttempts, r.lastError, r.updatedAt])).toEqual([
          [0, "sent", 1, null, T0 + 10],
          [1, "pending", 1, "queue full", T0 + 11],
          [2, "sent", 1, null, T0 + 10],
        ]);

        // A retry of everything touches only what is still pending.
        await repos.outbox.recordSendOutcome("imp_send", "call", [0, 1, 2], { sent: true }, T0 + 20);
        rows = await repos.outbox.listForImport("imp_send");
        expect(rows.map((r) => [r.batchNo, r.state, r.sendAttempts, r.lastError, r.updatedAt])).toEqual([
          [0, "sent", 1, null, T0 + 10],
          [1, "sent", 2, null, T0 + 20],
          [2, "sent", 1, null, T0 + 10],
        ]);
      });

      it("finds the customers an earlier attempt of the same import stored", async () => {
        const t = await tenant();
        await repos.customers.insertChunk(t.emi.pk, "imp_mine", T0, [loanRow(1), loanRow(2)]);
        await repos.customers.insertChunk(t.emi.pk, "imp_theirs", T0, [loanRow(3)]);
        const own = await repos.customers.findOwn(t.emi.pk, "imp_mine", [keyOf(1), keyOf(3), keyOf(9)]);
        expect([...own.keys()]).toEqual([keyOf(1)]);
      });
    });

    describe("workflow run failures", () => {
      it("groups the failed runs that started by reason, most frequent first, within the limits", async () => {
        const t = await tenant();
        const importId = `imp_wf_${crypto.randomUUID()}`;
        await repos.imports.begin({
          id: importId,
          organizationId: t.orgId,
          campaignPk: t.emi.pk,
          state: "processing",
          createdAt: T0,
        });
        const added = await repos.customers.insertChunk(
          t.emi.pk,
          importId,
          T0,
          [1, 2, 3, 4, 5, 6].map((i) => loanRow(i)),
          { kind: "workflow", batchSize: 500 },
        );
        const ids = [...added.values()].sort((a, b) => a - b);
        await repos.workflowRuns.ensureRuns(importId, 0, ids, T0);
        const fail = async (id: number | undefined, lastError?: string) => {
          const instanceId = workflowInstanceId(importId, id as number);
          await repos.workflowRuns.update(instanceId, { status: "running" }, T0 + 1);
          await repos.workflowRuns.update(instanceId, { status: "failed", lastError }, T0 + 2);
        };
        await fail(ids[2], "step 1 (call): A");
        await fail(ids[0], "step 1 (call): A");
        await fail(ids[1], "step 2 (webhook): B");
        await fail(ids[3]); // failed without a recorded reason
        await repos.workflowRuns.update(
          workflowInstanceId(importId, ids[4] as number),
          { status: "completed" },
          T0,
        );
        // Never started: its batch's failure, reported with the batch, not here.
        await repos.workflowRuns.failNeverStarted(importId, 0, "dead_lettered: x", T0 + 3);
        expect((await repos.workflowRuns.find(workflowInstanceId(importId, ids[5] as number)))?.status).toBe(
          "failed",
        );

        const example = (id: number | undefined, i: number) => ({
          instanceId: workflowInstanceId(importId, id as number),
          customerId: id,
          loanId: keyOf(i),
          leadId: null,
        });
        expect(await repos.workflowRuns.failuresForImport(importId, { reasons: 10, examples: 3 })).toEqual({
          groups: [
            { reason: "step 1 (call): A", runs: 2, examples: [example(ids[0], 1), example(ids[2], 3)] },
            { reason: null, runs: 1, examples: [example(ids[3], 4)] },
            { reason: "step 2 (webhook): B", runs: 1, examples: [example(ids[1], 2)] },
          ],
          otherRuns: 0,
          otherReasons: 0,
        });
        expect(await repos.workflowRuns.failuresForImport(importId, { reasons: 1, examples: 1 })).toEqual({
          groups: [{ reason: "step 1 (call): A", runs: 2, examples: [example(ids[0], 1)] }],
          otherRuns: 2,
          otherReasons: 2,
        });
        expect(await repos.workflowRuns.failuresForImport("imp_none", { reasons: 10, examples: 3 })).toEqual({
          groups: [],
          otherRuns: 0,
          otherReasons: 0,
        });
      });
    });

    describe("cursor pagination", () => {
      it("pages customers in id order, across chunks, with no gaps or repeats", async () => {
        const t = await tenant();
        await repos.customers.insertChunk(t.emi.pk, "imp", T0, [loanRow(5), loanRow(1), loanRow(9)]);
        await repos.customers.insertChunk(t.emi.pk, "imp", T0, [
          loanRow(2),
          loanRow(7),
          loanRow(3),
          loanRow(4),
        ]);
        const pages: number[][] = [];
        let after: number | undefined;
        for (;;) {
          const page = await repos.customers.list(t.emi.pk, 3, after);
          if (page.length === 0) break;
          pages.push(page.map((c) => c.id));
          after = page[page.length - 1]?.id;
        }
        expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
        const all = pages.flat();
        expect(all).toEqual([...all].sort((a, b) => a - b));
        expect(new Set(all).size).toBe(7);
        const byId = await repos.customers.findByIds([all[4] as number, all[0] as number, all[6] as number]);
        expect(byId.map((c) => c.id)).toEqual([all[0], all[4], all[6]]);
        expect(byId.map((c) => c.loanId)).toEqual([keyOf(5), keyOf(7), keyOf(4)]);
      });

      it("pages campaigns and agents in id order", async () => {
        const t = await tenant();
        for (const id of ["zeta", "alpha", "mid"]) {
          await repos.campaigns.createCampaign({
            organizationId: t.orgId,
            id,
            name: id,
            campaignType: "lead",
            timezone: "UTC",
            defaultCountry: "US",
            callingWindow: { start: "08:00", end: "20:00", days: ["fri"] },
            workflow: { steps: [{ type: "call" }] },
            createdAt: T0,
          });
          await repos.campaigns.agents.create(t.orgId, { id, name: `Agent ${id}`, createdAt: T0 });
        }
        const first = await repos.campaigns.listCampaigns(t.orgId, 2);
        const rest = await repos.campaigns.listCampaigns(t.orgId, 10, first[first.length - 1]?.id);
        expect([...first, ...rest].map((c) => c.id)).toEqual(["alpha", "emi", "lead", "mid", "zeta"]);
        expect(first[0]?.workflow).toEqual({ steps: [{ type: "call" }] });
        expect(first[0]?.callingWindow).toEqual({ start: "08:00", end: "20:00", days: ["fri"] });

        const agents = await repos.campaigns.agents.list(t.orgId, 2, "alpha");
        expect(agents.map((a) => a.id)).toEqual(["mid", "zeta"]);
      });
    });

    describe("tenant scoping", () => {
      it("one organization never sees or clashes with another's rows", async () => {
        const a = await tenant();
        const b = await tenant();
        // Same caller-chosen ids in both organizations (the fixture made "emi" for each).
        expect(a.emi.pk).not.toBe(b.emi.pk);
        expect((await repos.campaigns.findCampaign(b.orgId, "emi"))?.pk).toBe(b.emi.pk);
        expect(
          await repos.campaigns.agents.create(a.orgId, { id: "agent-1", name: "A", createdAt: T0 }),
        ).toBe(true);
        expect(
          await repos.campaigns.agents.create(a.orgId, { id: "agent-1", name: "A2", createdAt: T0 }),
        ).toBe(false);
        expect(await repos.campaigns.agents.find(b.orgId, "agent-1")).toBeUndefined();
        expect(
          await repos.campaigns.agents.create(b.orgId, { id: "agent-1", name: "B", createdAt: T0 }),
        ).toBe(true);
        expect((await repos.campaigns.agents.find(a.orgId, "agent-1"))?.name).toBe("A");
        expect(await repos.campaigns.dispositions.find(a.orgId, "agent-1")).toBeUndefined();

        await repos.customers.insertChunk(a.emi.pk, "imp_a", T0, [loanRow(1)]);
        const bAdded = await repos.customers.insertChunk(b.emi.pk, "imp_b", T0, [loanRow(1)]);
        expect([...bAdded.keys()]).toEqual([keyOf(1)]); // not a duplicate of organization A's customer
        expect((await repos.customers.list(a.emi.pk, 10)).map((c) => c.importId)).toEqual(["imp_a"]);

        await repos.imports.begin({
          id: `imp_${a.orgId}`,
          organizationId: a.orgId,
          campaignPk: a.emi.pk,
          idempotencyKey: "shared-key",
          state: "processing",
          createdAt: T0,
        });
        expect(await repos.imports.find(b.orgId, `imp_${a.orgId}`)).toBeUndefined();
        expect(await repos.imports.findByIdempotencyKey(b.orgId, "shared-key")).toBeUndefined();
        expect(await repos.campaigns.listCampaigns(b.orgId, 10)).toHaveLength(2);
      });

      it("an API key resolves to its own organization until it is revoked", async () => {
        const a = await tenant();
        const b = await tenant();
        const hashA = `hash-${crypto.randomUUID()}`;
        const hashB = `hash-${crypto.randomUUID()}`;
        await repos.tenancy.createApiKey({
          id: `key_${hashA}`,
          organizationId: a.orgId,
          name: "a",
          keyHash: hashA,
          createdAt: T0,
        });
        await repos.tenancy.createApiKey({
          id: `key_${hashB}`,
          organizationId: b.orgId,
          name: "b",
          keyHash: hashB,
          createdAt: T0,
        });
        expect(await repos.tenancy.findOrganizationIdByKeyHash(hashA)).toBe(a.orgId);
        expect(await repos.tenancy.findOrganizationIdByKeyHash(hashB)).toBe(b.orgId);
        expect(await repos.tenancy.revokeApiKey(`key_${hashA}`, T0 + 1)).toBe(true);
        expect(await repos.tenancy.revokeApiKey(`key_${hashA}`, T0 + 2)).toBe(false);
        expect(await repos.tenancy.findOrganizationIdByKeyHash(hashA)).toBeUndefined();
        expect(await repos.tenancy.findOrganizationIdByKeyHash(hashB)).toBe(b.orgId);
      });
    });
  });
}
