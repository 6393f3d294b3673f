// The behaviour bulkcall needs from its store, written once and run against every store: D1 inside
// workerd (test/repository.contract-d1.test.ts) and libSQL in Node on a file: and a :memory:
// database (test/libsql/repository.contract.test.ts). A difference between the drivers shows up
// here as the same test passing on one store and failing on the other.
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createCallEventsRepository } from "../../src/db/call-events-repository";
import { createCallsRepository } from "../../src/db/calls-repository";
import { createCampaignsRepository } from "../../src/db/campaigns-repository";
import type { Db } from "../../src/db/client";
import { encodeCustomerRow } from "../../src/db/customer-rows";
import { createCustomersRepository } from "../../src/db/customers-repository";
import { createDialingControlRepository } from "../../src/db/dialing-control-repository";
import { createImportsRepository } from "../../src/db/imports-repository";
import { createOutboxRepository } from "../../src/db/outbox-repository";
import { organizations } from "../../src/db/schema";
import { createTenancyRepository } from "../../src/db/tenancy-repository";
import { createWebhookDeliveriesRepository } from "../../src/db/webhook-deliveries-repository";
import { createWebhooksRepository } from "../../src/db/webhooks-repository";
import { createWorkflowRunsRepository, workflowInstanceId } from "../../src/db/workflow-runs-repository";
import { describeError } from "../../src/domain/errors";
import type { Call } from "../../src/domain/model/call";
import type { NormalizedRecord } from "../../src/domain/model/customer";
import type { WebhookEventType } from "../../src/domain/model/webhook";
import type { CallEventToRecord, CallTransition } from "../../src/domain/ports/call-events-repository";
import type { ClaimRules } from "../../src/domain/ports/calls-repository";
import { insertChunk } from "../support/chunks";
import { dayTwoContract } from "./day-two-contract";

/** A first name the test trigger refuses, to make one row of a chunk fail inside the database. */
const REFUSED_FIRST_NAME = "__contract_refused__";

const T0 = 1_700_000_000_000;

/** Claim rules that hold nothing back: the tests of other concerns claim freely. */
function looseRules(t: { orgId: string; emi: { pk: number } }, importId: string): ClaimRules {
  return {
    organizationId: t.orgId,
    importId,
    campaignPk: t.emi.pk,
    limits: { maxPerDay: 10, maxPer7Days: 50, minGapMinutes: 5 },
    dayStart: T0 - 86_400_000,
    weekStart: T0 - 7 * 86_400_000,
    unreportedHoldMs: 0,
  };
}

/** What the events domain would compute for an event on a call's first attempt. */
function transition(
  organizationId: string,
  call: Call,
  event: CallEventToRecord,
  then: { status: CallTransition["status"]; reason: string | null; notBefore?: number | null },
): CallTransition {
  return {
    eventId: event.eventId,
    organizationId,
    callPk: call.pk,
    attempt: 1,
    outcome: event.status,
    outcomeReason: event.reason,
    disposition: event.disposition,
    providerCallId: event.providerCallId,
    endedAt: event.occurredAt,
    status: then.status,
    reason: then.reason,
    notBefore: then.notBefore ?? null,
  };
}

function repositories(db: Db) {
  return {
    tenancy: createTenancyRepository(db),
    campaigns: createCampaignsRepository(db),
    customers: createCustomersRepository(db),
    imports: createImportsRepository(db),
    outbox: createOutboxRepository(db),
    calls: createCallsRepository(db),
    callEvents: createCallEventsRepository(db),
    workflowRuns: createWorkflowRunsRepository(db),
    webhooks: createWebhooksRepository(db),
    webhookDeliveries: createWebhookDeliveriesRepository(db),
    dialingControl: createDialingControlRepository(db),
  };
}

/** Unix ms as the webhook payloads write times (JavaScript's own ISO 8601 form). */
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A loan record with every field the contract allows, as validation hands it to storage. */
function fullLoanRecord(i: number, overrides: Partial<NormalizedRecord> = {}): NormalizedRecord {
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
        const first = await insertChunk(repos.customers, t.emi.pk, "imp_ok", T0, [loanRow(1), loanRow(2)]);
        expect([...first.keys()]).toEqual([keyOf(1), keyOf(2)]);

        await expect(
          insertChunk(repos.customers, t.emi.pk, "imp_bad", T0, [
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
        const retry = await insertChunk(repos.customers, t.emi.pk, "imp_retry", T0, [
          loanRow(3),
          loanRow(4),
          loanRow(6),
        ]);
        expect([...retry.keys()]).toEqual([keyOf(3), keyOf(4), keyOf(6)]);
      });

      it("chunks written concurrently succeed or fail independently", async () => {
        const t = await tenant();
        const outcomes = await Promise.allSettled([
          insertChunk(repos.customers, t.emi.pk, "imp", T0, [loanRow(10), loanRow(11)]),
          insertChunk(repos.customers, t.emi.pk, "imp", T0, [
            loanRow(12),
            loanRow(13, { first_name: REFUSED_FIRST_NAME }),
          ]),
          insertChunk(repos.customers, t.emi.pk, "imp", T0, [loanRow(14)]),
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
        const added = await insertChunk(repos.customers, t.emi.pk, "imp_big", T0, rows);
        expect(added.size).toBe(1_000);
        const ids = [...added.values()];
        expect(new Set(ids).size).toBe(1_000);
        const stored = await repos.customers.list(t.emi.pk, 1_000);
        expect(stored.map((c) => c.id)).toEqual([...ids].sort((a, b) => a - b));
      });

      it("refuses customers of a campaign that does not exist (foreign keys are enforced)", async () => {
        await expect(
          insertChunk(repos.customers, 2_000_000_000, "imp_orphan", T0, [loanRow(1)]),
        ).rejects.toThrow(/FOREIGN KEY/i);
      });

      describe("what a chunk that skips held keys added", () => {
        const skip = (pk: number, importId: string, at: number, rows: string[]) =>
          repos.customers.upsertChunk(pk, importId, at, rows, {
            onExisting: "skip",
            stopsPaid: false,
            leaseExpiredBefore: 0,
          });

        it("says every row when it added them all, without naming them", async () => {
          const t = await tenant();
          const written = await skip(t.emi.pk, "imp_all", T0, [loanRow(1), loanRow(2), loanRow(3)]);
          expect(written.added).toBe("every");
          expect(written.updated).toEqual(new Set());
          expect((await repos.customers.list(t.emi.pk, 10)).map((c) => c.loanId)).toEqual(
            [1, 2, 3].map(keyOf),
          );
        });

        it("names exactly the keys it added, beside another chunk of the same import and moment", async () => {
          const t = await tenant();
          await skip(t.emi.pk, "imp_held", T0, [loanRow(2), loanRow(4)]);
          // Another chunk of the same attempt: same import, same moment, written just before, so its
          // rows' ids lie right below this chunk's.
          await skip(t.emi.pk, "imp_same", T0 + 1, [loanRow(10), loanRow(11), loanRow(12)]);
          const written = await skip(t.emi.pk, "imp_same", T0 + 1, [
            loanRow(1),
            loanRow(2),
            loanRow(3),
            loanRow(4),
            loanRow(5),
          ]);
          expect(written.added).toEqual(new Set([1, 3, 5].map(keyOf)));
          const stored = await repos.customers.list(t.emi.pk, 20);
          expect(stored.filter((c) => c.importId === "imp_same").map((c) => c.loanId)).toEqual(
            [10, 11, 12, 1, 3, 5].map(keyOf),
          );
        });

        it("names no key when every key was held, whatever the statement before it inserted", async () => {
          const t = await tenant();
          await skip(t.emi.pk, "imp_first", T0, [loanRow(1), loanRow(2)]);
          await skip(t.emi.pk, "imp_same", T0 + 1, [loanRow(7), loanRow(8)]);
          const written = await skip(t.emi.pk, "imp_same", T0 + 1, [loanRow(1), loanRow(2)]);
          expect(written.added).toEqual(new Set());
        });
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

    describe("duplicate detection (ON CONFLICT DO NOTHING)", () => {
      it("returns only the rows that were new and leaves the stored ones untouched", async () => {
        const t = await tenant();
        const a = await insertChunk(repos.customers, t.emi.pk, "imp_a", T0, [loanRow(1), loanRow(2)]);
        const b = await insertChunk(repos.customers, t.emi.pk, "imp_b", T0 + 1, [
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
        await insertChunk(repos.customers, t.emi.pk, "imp", T0, [loanRow(1)]);
        const again = await insertChunk(repos.customers, other!.pk, "imp", T0, [loanRow(1)]);
        expect([...again.keys()]).toEqual([keyOf(1)]);
      });

      it("stores every field and reads it back with the same types", async () => {
        const t = await tenant();
        const loan = await insertChunk(repos.customers, t.emi.pk, "imp_full", T0 + 7, [loanRow(42)]);
        const lead: NormalizedRecord = {
          lead_id: "LEAD-9",
          first_name: "Ravi",
          phone_number: "+14155550100",
          lead_date: "2026-11-30",
        };
        const leads = await insertChunk(repos.customers, t.lead.pk, "imp_lead", T0 + 8, [
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
          updatedAt: null,
          erasedAt: null,
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
      const begin = (
        orgId: string,
        campaignPk: number,
        id: string,
        key: string | null,
        createdAt: number,
        leaseExpiresAt?: number,
      ) =>
        repos.imports.begin({
          id,
          organizationId: orgId,
          campaignPk,
          idempotencyKey: key,
          bodyHash: key === null ? null : `hash-${key}`,
          state: "processing",
          total: 3,
          createdAt,
          leaseExpiresAt,
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

      it("begins an import with its look-ups only where its campaign and call configuration hold, and releases it", async () => {
        const t = await tenant();
        const u = await tenant();
        const claim = (id: string, key: string | null, orgId = t.orgId) => ({
          id,
          organizationId: orgId,
          kind: "bulk" as const,
          idempotencyKey: key,
          bodyHash: key === null ? null : `hash-${key}`,
          state: "processing" as const,
          total: 7,
          initiateCall: true,
          createdAt: T0,
          leaseExpiresAt: T0 + 60_000,
        });
        const config = { agentId: "ag", dispositionId: "dp" };
        await repos.campaigns.agents.create(t.orgId, { id: "ag", name: "Agent", createdAt: T0 });
        await repos.campaigns.dispositions.create(t.orgId, { id: "dp", name: "Disposition", createdAt: T0 });
        const ready = (campaignId: string, callConfig?: typeof config, requireCallConfig = true) => ({
          campaignId,
          callConfig,
          requireCallConfig,
        });
        // The claim's part of lookUpAndBegin: the campaign pk its import was inserted for.
        const claimFor = async (row: ReturnType<typeof claim>, r: ReturnType<typeof ready>) =>
          (
            await repos.imports.lookUpAndBegin(
              {
                organizationId: row.organizationId,
                campaignId: r.campaignId,
                callConfig: r.callConfig,
                idempotencyKey: row.idempotencyKey ?? undefined,
              },
              { row, requireCallConfig: r.requireCallConfig },
            )
          ).claimedFor;

        // Refused: no such campaign, another organization's, an unknown agent or disposition, and
        // calls with neither a callConfig nor campaign defaults. Nothing is written.
        expect(await claimFor(claim("imp_w1", "k1"), ready("nope", config))).toBeUndefined();
        expect(await claimFor(claim("imp_w1", "k1", u.orgId), ready("emi", config))).toBeUndefined();
        expect(
          await claimFor(claim("imp_w1", "k1"), ready("emi", { ...config, agentId: "x" })),
        ).toBeUndefined();
        expect(
          await claimFor(claim("imp_w1", "k1"), ready("emi", { ...config, dispositionId: "x" })),
        ).toBeUndefined();
        expect(await claimFor(claim("imp_w1", "k1"), ready("emi"))).toBeUndefined();
        expect(await repos.imports.find(t.orgId, "imp_w1")).toBeUndefined();
        expect(await repos.imports.findByIdempotencyKey(t.orgId, "k1")).toBeUndefined();

        // Begun with the request's call configuration, on the campaign's pk, holding the key.
        expect(await claimFor(claim("imp_w1", "k1"), ready("emi", config))).toBe(t.emi.pk);
        expect(await repos.imports.find(t.orgId, "imp_w1")).toMatchObject({
          campaignPk: t.emi.pk,
          kind: "bulk",
          state: "processing",
          total: 7,
          initiateCall: true,
          useWorkflow: false,
          agentId: "ag",
          dispositionId: "dp",
          attempt: 1,
          startedAt: T0,
          leaseExpiresAt: T0 + 60_000,
          bodyHash: "hash-k1",
        });
        expect(await claimFor(claim("imp_w2", "k1"), ready("emi", config))).toBeUndefined();
        expect(await repos.imports.begin({ ...claim("imp_w2", "k1"), campaignPk: t.emi.pk })).toBe(false);

        // Without a callConfig: the campaign's defaults, when it has both.
        await repos.campaigns.updateCampaign(t.orgId, "lead", { agentId: "ag", dispositionId: "dp" });
        expect(await claimFor(claim("imp_w3", null), ready("lead"))).toBe(t.lead.pk);
        expect(await repos.imports.find(t.orgId, "imp_w3")).toMatchObject({
          campaignPk: t.lead.pk,
          agentId: "ag",
          dispositionId: "dp",
        });
        // No calls: the campaign needs no defaults, and an import without them keeps none.
        expect(await claimFor(claim("imp_w4", null), ready("emi", undefined, false))).toBe(t.emi.pk);
        expect(await repos.imports.find(t.orgId, "imp_w4")).toMatchObject({
          agentId: null,
          dispositionId: null,
        });
        // A deleted campaign takes no import.
        await repos.campaigns.markDeleted(t.orgId, "lead", T0);
        expect(await claimFor(claim("imp_w5", null), ready("lead"))).toBeUndefined();

        // Released: the key is free again. A later attempt, or a finished import, is never released.
        await repos.imports.release("imp_w1");
        expect(await repos.imports.findByIdempotencyKey(t.orgId, "k1")).toBeUndefined();
        expect(await claimFor(claim("imp_w6", "k1"), ready("emi", config))).toBe(t.emi.pk);
        await repos.imports.complete(
          "imp_w6",
          1,
          { total: 7, valid: 7, invalid: 0, successful: 7, failed: 0, batchesProcessed: 1 },
          { status: 201, body: null },
          T0 + 1,
        );
        await repos.imports.release("imp_w6");
        expect((await repos.imports.findByIdempotencyKey(t.orgId, "k1"))?.id).toBe("imp_w6");
      });

      it("looks up a request's campaign, agent, disposition and key in one call, and claims the key only where no import holds it", async () => {
        const t = await tenant();
        await repos.campaigns.agents.create(t.orgId, { id: "ag", name: "Agent", createdAt: T0 });
        const lookUp = (campaignId: string, idempotencyKey?: string) => ({
          organizationId: t.orgId,
          campaignId,
          callConfig: { agentId: "ag", dispositionId: "dp" },
          idempotencyKey,
        });
        // Without a claim: the look-ups alone, nothing written.
        const found = await repos.imports.lookUpAndBegin(lookUp("emi", "k-look"));
        expect(found).toEqual({
          campaign: await repos.campaigns.findCampaign(t.orgId, "emi"),
          agentFound: true,
          dispositionFound: false,
          earlier: undefined,
          claimedFor: undefined,
        });
        expect(await repos.imports.lookUpAndBegin(lookUp("nope"))).toMatchObject({ campaign: undefined });
        expect(await repos.imports.findByIdempotencyKey(t.orgId, "k-look")).toBeUndefined();

        // The claim sees what the look-ups saw: the key's import is returned, and no second is begun.
        await repos.campaigns.dispositions.create(t.orgId, { id: "dp", name: "Disposition", createdAt: T0 });
        const row = (id: string) => ({
          id,
          organizationId: t.orgId,
          idempotencyKey: "k-look",
          bodyHash: "h",
          state: "processing" as const,
          createdAt: T0,
        });
        const first = await repos.imports.lookUpAndBegin(lookUp("emi", "k-look"), {
          row: row("imp_look_1"),
          requireCallConfig: true,
        });
        expect(first).toMatchObject({
          agentFound: true,
          dispositionFound: true,
          earlier: undefined,
          claimedFor: t.emi.pk,
        });
        const second = await repos.imports.lookUpAndBegin(lookUp("emi", "k-look"), {
          row: row("imp_look_2"),
          requireCallConfig: true,
        });
        expect(second.earlier?.id).toBe("imp_look_1");
        expect(second.claimedFor).toBeUndefined();
        expect(await repos.imports.find(t.orgId, "imp_look_2")).toBeUndefined();
      });

      it("completes a request and keeps its stored answer (in parts) and counts", async () => {
        const t = await tenant();
        await begin(t.orgId, t.emi.pk, "imp_done", "key-done", T0);
        const counts = { total: 3, valid: 2, invalid: 1, successful: 2, failed: 1, batchesProcessed: 1 };
        // Larger than one part: the answer is split and joined back in order.
        const packed = `${"a".repeat(1_000_000)}${"b".repeat(1_000_000)}c`;
        expect(
          (await repos.imports.complete("imp_done", 1, counts, { status: 207, body: packed }, T0 + 5))
            .completed,
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

      it("hands a failed attempt, or one whose lease lapsed, to exactly one retry, never a running or completed one", async () => {
        const t = await tenant();
        await begin(t.orgId, t.emi.pk, "imp_old", "key-old", T0, T0 + 100);
        expect(await repos.imports.claimForRetry("imp_old", T0 + 99, T0 + 200)).toBeUndefined(); // lease live
        expect(await repos.imports.claimForRetry("imp_old", T0 + 100, T0 + 200)).toBe(2);
        // The retry holds a new lease: the import is not taken over again before it lapses.
        expect(await repos.imports.claimForRetry("imp_old", T0 + 150, T0 + 300)).toBeUndefined();
        expect(await repos.imports.find(t.orgId, "imp_old")).toMatchObject({
          attempt: 2,
          leaseExpiresAt: T0 + 200,
        });
        expect((await repos.imports.findByIdempotencyKey(t.orgId, "key-old"))?.id).toBe("imp_old");

        // An import written before leases existed is taken over ten minutes after its attempt started.
        await begin(t.orgId, t.emi.pk, "imp_legacy", "key-legacy", T0);
        expect(
          await repos.imports.claimForRetry("imp_legacy", T0 + 600_000 - 1, T0 + 700_000),
        ).toBeUndefined();
        expect(await repos.imports.claimForRetry("imp_legacy", T0 + 600_000, T0 + 700_000)).toBe(2);

        await begin(t.orgId, t.emi.pk, "imp_failed", "key-failed", T0, T0 + 100);
        await repos.imports.markFailed("imp_failed", 1, T0 + 1);
        expect((await repos.imports.find(t.orgId, "imp_failed"))?.state).toBe("failed");
        const claims = await Promise.all([
          repos.imports.claimForRetry("imp_failed", T0 + 2, T0 + 200),
          repos.imports.claimForRetry("imp_failed", T0 + 2, T0 + 200),
        ]);
        expect(claims.filter((c) => c !== undefined)).toEqual([2]);

        await begin(t.orgId, t.emi.pk, "imp_finished", "key-fin", T0, T0 + 100);
        const counts = { total: 0, valid: 0, invalid: 0, successful: 0, failed: 0, batchesProcessed: 0 };
        await repos.imports.complete("imp_finished", 1, counts, { status: 201, body: "{}" }, T0);
        await repos.imports.markFailed("imp_finished", 1, T0 + 1); // a completed import stays completed
        expect(await repos.imports.claimForRetry("imp_finished", T0 + 1_000, T0 + 2_000)).toBeUndefined();
        expect((await repos.imports.find(t.orgId, "imp_finished"))?.state).toBe("completed");
      });

      it("a chunk's write renews its attempt's lease, and only its own attempt's", async () => {
        const t = await tenant();
        await begin(t.orgId, t.emi.pk, "imp_lease", null, T0, T0 + 100);
        await insertChunk(repos.customers, t.emi.pk, "imp_lease", T0, [loanRow(1)], undefined, {
          importId: "imp_lease",
          attempt: 1,
          until: T0 + 500,
        });
        expect((await repos.imports.find(t.orgId, "imp_lease"))?.leaseExpiresAt).toBe(T0 + 500);
        // A late chunk of a superseded attempt stores its rows but cannot extend the new attempt's lease.
        await insertChunk(repos.customers, t.emi.pk, "imp_lease", T0, [loanRow(2)], undefined, {
          importId: "imp_lease",
          attempt: 7,
          until: T0 + 9_000,
        });
        expect((await repos.imports.find(t.orgId, "imp_lease"))?.leaseExpiresAt).toBe(T0 + 500);
      });

      it("resolves imports whose lease lapsed as failed, counting the customers they stored", async () => {
        const t = await tenant();
        await begin(t.orgId, t.emi.pk, "imp_dead", "key-dead", T0, T0 + 100);
        await insertChunk(repos.customers, t.emi.pk, "imp_dead", T0, [loanRow(1), loanRow(2)]);
        await begin(t.orgId, t.emi.pk, "imp_alive", "key-alive", T0, T0 + 10_000);
        // The cron's sweep covers every organization: other tests' imports may be resolved with these.
        const resolved = await repos.imports.resolveAbandoned(T0 + 5_000, 1_000);
        expect(resolved).toContain("imp_dead");
        expect(resolved).not.toContain("imp_alive");
        expect(await repos.imports.find(t.orgId, "imp_dead")).toMatchObject({
          state: "failed",
          leaseExpiresAt: null,
          total: 3,
          valid: 3,
          invalid: 0,
          successful: 2,
          failed: 1,
        });
        expect((await repos.imports.find(t.orgId, "imp_alive"))?.state).toBe("processing");
        expect(await repos.imports.resolveAbandoned(T0 + 5_000, 1_000)).not.toContain("imp_dead");
      });

      it("an attempt that was taken over can neither fail nor complete its successor's import", async () => {
        const t = await tenant();
        await begin(t.orgId, t.emi.pk, "imp_fenced", "key-fenced", T0, T0 + 1);
        expect(await repos.imports.claimForRetry("imp_fenced", T0 + 1, T0 + 2)).toBe(2); // attempt 1 abandoned
        const counts = { total: 1, valid: 1, invalid: 0, successful: 1, failed: 0, batchesProcessed: 1 };
        // Attempt 1 wakes up late: its failure and its completion are both ignored.
        await repos.imports.markFailed("imp_fenced", 1, T0 + 3);
        expect(
          (await repos.imports.complete("imp_fenced", 1, counts, { status: 201, body: "old" }, T0 + 4))
            .completed,
        ).toBe(false);
        expect(await repos.imports.find(t.orgId, "imp_fenced")).toMatchObject({
          state: "processing",
          attempt: 2,
        });
        expect(await repos.imports.storedResponse("imp_fenced")).toBeUndefined();
        // Attempt 2 completes it.
        expect(
          (await repos.imports.complete("imp_fenced", 2, counts, { status: 201, body: "new" }, T0 + 5))
            .completed,
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
        const first = await insertChunk(
          repos.customers,
          t.emi.pk,
          "imp_out",
          T0,
          [loanRow(1), loanRow(2), loanRow(3)],
          calls,
        );
        // Another import writing in between must not leak into this import's batches.
        await importFor(t, "imp_other");
        await insertChunk(repos.customers, t.emi.pk, "imp_other", T0, [loanRow(50)], calls);
        // A chunk whose records are partly known: only the new one gets a batch.
        const second = await insertChunk(
          repos.customers,
          t.emi.pk,
          "imp_out",
          T0,
          [loanRow(3), loanRow(4)],
          calls,
        );
        // A chunk that adds nothing adds no batch.
        await insertChunk(repos.customers, t.emi.pk, "imp_out", T0, [loanRow(4)], calls);
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
        const wf = await insertChunk(repos.customers, t.emi.pk, "imp_wf", T0, [loanRow(60), loanRow(61)], {
          kind: "workflow",
          batchSize: 500,
        });
        expect(
          (await repos.outbox.listForImport("imp_wf")).map((r) => [r.kind, r.batchNo, r.customerIds]),
        ).toEqual([["workflow", 0, [...wf.values()]]]);
      });

      it("reads a call batch with its import, campaign and organization in one statement", async () => {
        const t = await tenant();
        await importFor(t, "imp_ctx");
        const written = await insertChunk(
          repos.customers,
          t.emi.pk,
          "imp_ctx",
          T0,
          [loanRow(1), loanRow(2)],
          {
            kind: "call",
            batchSize: 500,
          },
        );
        await repos.tenancy.updateOrganizationPolicy(t.orgId, {
          contactPolicy: { maxPerDay: 2, maxPer7Days: 6, minGapMinutes: 45 },
          blackoutDates: ["2026-12-25"],
        });
        const found = await repos.outbox.findCallBatch("imp_ctx", 0);
        expect(found?.batch).toMatchObject({
          importId: "imp_ctx",
          kind: "call",
          batchNo: 0,
          customerIds: [...written.values()],
        });
        expect(found?.import).toEqual(await repos.imports.find(t.orgId, "imp_ctx"));
        expect(found?.campaign).toEqual(await repos.campaigns.findCampaignByPk(t.emi.pk));
        expect(found?.organization).toEqual(await repos.tenancy.findOrganization(t.orgId));
        expect(await repos.outbox.findCallBatch("imp_ctx", 1)).toBeUndefined();
        // A workflow batch is not a call batch.
        await importFor(t, "imp_ctx_wf");
        await insertChunk(repos.customers, t.emi.pk, "imp_ctx_wf", T0, [loanRow(3)], {
          kind: "workflow",
          batchSize: 500,
        });
        expect(await repos.outbox.findCallBatch("imp_ctx_wf", 0)).toBeUndefined();
        // A deleted campaign is still found: its calls under way end cleanly.
        await repos.campaigns.markDeleted(t.orgId, "emi", T0 + 1);
        expect((await repos.outbox.findCallBatch("imp_ctx", 0))?.campaign).toMatchObject({
          pk: t.emi.pk,
          deletedAt: T0 + 1,
        });
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
          for (const [k, id] of await insertChunk(repos.customers, t.emi.pk, "imp_mixed", T0, rows, calls)) {
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
          insertChunk(
            repos.customers,
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
        await insertChunk(
          repos.customers,
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

      it("returns the batches a chunk write created, and records their sends with the import's completion", async () => {
        const t = await tenant();
        await importFor(t, "imp_fold");
        const written = await repos.customers.upsertChunk(
          t.emi.pk,
          "imp_fold",
          T0,
          [loanRow(1), loanRow(2), loanRow(3)],
          {
            onExisting: "skip",
            handOff: { kind: "call", batchSize: 2 },
            stopsPaid: false,
            leaseExpiredBefore: 0,
          },
        );
        expect(written.batches).toEqual([
          { kind: "call", batchNo: 0, size: 2 },
          { kind: "call", batchNo: 1, size: 1 },
        ]);
        const counts = { total: 3, valid: 3, invalid: 0, successful: 3, failed: 0, batchesProcessed: 1 };
        const done = await repos.imports.complete(
          "imp_fold",
          1,
          counts,
          { status: 201, body: null },
          T0 + 10,
          [
            { kind: "call", batchNos: [0], outcome: { sent: true } },
            { kind: "call", batchNos: [1], outcome: { sent: false, error: "queue full" } },
          ],
        );
        // This organization has no webhook: nothing can be waiting for a hand-off.
        expect(done).toEqual({ completed: true, notifies: false });
        const rows = await repos.outbox.listForImport("imp_fold");
        expect(rows.map((r) => [r.batchNo, r.state, r.sendAttempts, r.lastError])).toEqual([
          [0, "sent", 1, null],
          [1, "pending", 1, "queue full"],
        ]);
      });

      it("finds the customers an earlier attempt of the same import stored", async () => {
        const t = await tenant();
        await insertChunk(repos.customers, t.emi.pk, "imp_mine", T0, [loanRow(1), loanRow(2)]);
        await insertChunk(repos.customers, t.emi.pk, "imp_theirs", T0, [loanRow(3)]);
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
        const added = await insertChunk(
          repos.customers,
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
        await insertChunk(repos.customers, t.emi.pk, "imp", T0, [loanRow(5), loanRow(1), loanRow(9)]);
        await insertChunk(repos.customers, t.emi.pk, "imp", T0, [
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
        expect(first[0]?.callingWindow).toEqual({
          start: "08:00",
          end: "20:00",
          days: ["fri"],
          blackoutDates: [],
        });

        const agents = await repos.campaigns.agents.list(t.orgId, 2, "alpha");
        expect(agents.map((a) => a.id)).toEqual(["mid", "zeta"]);
      });
    });

    describe("webhook deliveries written by the store's triggers", () => {
      const ALL: WebhookEventType[] = [
        "call.completed",
        "call.failed",
        "call.skipped",
        "import.completed",
        "workflow.completed",
        "workflow.failed",
      ];
      let hookNo = 0;
      async function hook(orgId: string, events: WebhookEventType[], at = T0) {
        const id = `wh_contract_${++hookNo}_${crypto.randomUUID().slice(0, 8)}`;
        const created = await repos.webhooks.create(
          {
            id,
            organizationId: orgId,
            url: `https://lender.example/${id}`,
            events,
            description: null,
            secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
            createdAt: at,
          },
          20,
        );
        if (created === "limit_reached") throw new Error("webhook limit reached in a contract test");
        return created;
      }
      const deliveriesOf = async (webhookPk: number) =>
        (await repos.webhookDeliveries.list(webhookPk, { limit: 500 })).map((d) => ({
          ...d,
          body: JSON.parse(d.payload) as { type: string; timestamp: string; data: Record<string, unknown> },
        }));

      /** An import of `n` customers with their call rows (queued), as the calls consumer makes them. */
      async function callsFor(t: Awaited<ReturnType<typeof tenant>>, n: number, first = 1) {
        const importId = `imp_${crypto.randomUUID()}`;
        await repos.imports.begin({
          id: importId,
          organizationId: t.orgId,
          campaignPk: t.emi.pk,
          state: "processing",
          createdAt: T0,
        });
        const added = await insertChunk(
          repos.customers,
          t.emi.pk,
          importId,
          T0,
          Array.from({ length: n }, (_, i) => loanRow(first + i)),
        );
        const customers = await repos.customers.findByIds([...added.values()]);
        const calls = await repos.calls.ensureCalls({
          organizationId: t.orgId,
          campaignPk: t.emi.pk,
          importId,
          batchNo: 0,
          origin: "bulk",
          agentId: "agent-1",
          dispositionId: null,
          customers: customers.map((c) => ({ id: c.id, phoneNumber: c.phoneNumber, loanId: c.loanId })),
          at: T0 + 1,
        });
        return { importId, calls, customers, rules: looseRules(t, importId) };
      }

      function expectedCallEvent(call: Call, loanId: string) {
        return {
          type: `call.${call.status}`,
          timestamp: iso(call.finishedAt),
          data: {
            callId: call.id,
            status: call.status,
            reason: call.reason,
            disposition: call.disposition,
            attempts: call.attempts,
            providerCallId: call.providerCallId,
            customerId: call.customerId,
            loan_id: loanId,
            lead_id: null,
            phone_number: call.phoneNumber,
            campaignId: "emi",
            importId: call.importId,
            origin: "bulk",
            createdAt: iso(call.createdAt),
            dispatchedAt: iso(call.dispatchedAt),
            finishedAt: iso(call.finishedAt),
          },
        };
      }

      it("a call that ends writes one pending delivery per subscribed live webhook of its organization, with the event's payload", async () => {
        const t = await tenant();
        const other = await tenant();
        const failures = await hook(t.orgId, ["call.skipped", "call.failed"]);
        const completions = await hook(t.orgId, ["call.completed"]);
        const deleted = await hook(t.orgId, ALL);
        expect(await repos.webhooks.remove(t.orgId, deleted.id, "the webhook was deleted", T0)).toBe(true);
        const foreign = await hook(other.orgId, ALL);

        const { calls } = await callsFor(t, 3);
        const [skip, fail, complete] = calls as [Call, Call, Call];
        const lease = T0 - 1;
        await repos.calls.markSkipped([skip.id], "paid", T0 + 10, lease);
        const claimed = await repos.calls.claim(
          [fail.id, complete.id],
          "claim-1",
          T0 + 20,
          lease,
          looseRules(t, fail.importId),
        );
        expect(claimed).toHaveLength(2);
        await repos.calls.markClaimedFailed(
          "claim-1",
          [{ id: fail.id, reason: "dialer rejected the call: invalid_number" }],
          T0 + 30,
        );
        await repos.calls.markDispatched("claim-1", [{ id: complete.id, providerCallId: "prov-7" }], T0 + 31);
        const completion = {
          eventId: `evt-${complete.id}`,
          callId: complete.id,
          attempt: null,
          status: "completed" as const,
          reason: null,
          disposition: "promise_to_pay",
          providerCallId: null,
          occurredAt: T0 + 40_123,
          payload: "{}",
        };
        await repos.callEvents.recordEvents(
          [completion],
          [transition(t.orgId, complete, completion, { status: "completed", reason: null })],
          "receipt-1",
          T0 + 41_000,
        );

        const stored = await repos.calls.findByIds(calls.map((c) => c.id));
        const byId = new Map(stored.map((c) => [c.id, c]));
        const loanOf = (c: Call) => keyOf(calls.indexOf(c) + 1);
        const expected = (c: Call) => expectedCallEvent(byId.get(c.id) as Call, loanOf(c));

        const forFailures = await deliveriesOf(failures.pk);
        expect(forFailures.map((d) => [d.eventType, d.status, d.attempts, d.nextAttemptAt])).toEqual([
          ["call.skipped", "pending", 0, null],
          ["call.failed", "pending", 0, null],
        ]);
        expect(forFailures.map((d) => d.body)).toEqual([expected(skip), expected(fail)]);
        expect(forFailures[0]?.body.data).toMatchObject({ reason: "paid", attempts: 0, dispatchedAt: null });
        expect(forFailures.every((d) => /^msg_[0-9a-f]{24}$/.test(d.id))).toBe(true);

        const forCompletions = await deliveriesOf(completions.pk);
        expect(forCompletions.map((d) => d.body)).toEqual([expected(complete)]);
        expect(forCompletions[0]?.body).toMatchObject({
          timestamp: iso(T0 + 40_123),
          data: { disposition: "promise_to_pay", providerCallId: "prov-7", attempts: 1 },
        });
        expect(await deliveriesOf(deleted.pk)).toEqual([]);
        expect(await deliveriesOf(foreign.pk)).toEqual([]);
      });

      it("writes nothing for a change that is not an ending, nor for an organization without webhooks", async () => {
        const t = await tenant();
        const watcher = await hook(t.orgId, ALL);
        const { calls } = await callsFor(t, 2);
        const [a, b] = calls as [Call, Call];
        const lease = T0 - 1;
        await repos.calls.markWaiting(
          [{ id: a.id, reason: "outside_calling_window", notBefore: T0 + 3_600_000 }],
          T0 + 5,
          lease,
        );
        await repos.calls.claim([b.id], "claim-2", T0 + 6, lease, looseRules(t, b.importId));
        await repos.calls.markDispatched("claim-2", [{ id: b.id, providerCallId: null }], T0 + 7);
        expect(await deliveriesOf(watcher.pk)).toEqual([]);

        // A repeated final event changes nothing, so it records nothing either.
        const event = {
          eventId: `evt-${b.id}`,
          callId: b.id,
          attempt: null,
          status: "failed" as const,
          reason: "no_answer",
          disposition: null,
          providerCallId: null,
          occurredAt: T0 + 8,
          payload: "{}",
        };
        const failed = { status: "failed" as const, reason: "no_answer" };
        await repos.callEvents.recordEvents([event], [transition(t.orgId, b, event, failed)], "r-1", T0 + 9);
        const again = { ...event, eventId: `evt-${b.id}-again`, status: "completed" as const };
        await repos.callEvents.recordEvents(
          [again],
          [transition(t.orgId, b, again, { status: "completed", reason: null })],
          "r-2",
          T0 + 10,
        );
        expect((await deliveriesOf(watcher.pk)).map((d) => d.eventType)).toEqual(["call.failed"]);

        const quiet = await tenant();
        const before = await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM webhook_deliveries`);
        const q = await callsFor(quiet, 50, 500);
        await repos.calls.markSkipped(
          q.calls.map((c) => c.id),
          "suppressed",
          T0 + 11,
          lease,
        );
        const after = await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM webhook_deliveries`);
        expect(after?.n).toBe(before?.n);
      });

      it("records the outcome and its event together: if the event cannot be written, the call keeps its status", async () => {
        const t = await tenant();
        await hook(t.orgId, ["call.skipped"]);
        const { calls } = await callsFor(t, 1, 900);
        const [call] = calls as [Call];
        await db.run(
          sql.raw(`CREATE TRIGGER IF NOT EXISTS contract_refuse_delivery BEFORE INSERT ON webhook_deliveries
            WHEN NEW.payload LIKE '%"refused-reason"%'
            BEGIN SELECT RAISE(ABORT, 'contract: delivery refused'); END`),
        );
        const refused = await repos.calls.markSkipped([call.id], "refused-reason", T0 + 5, T0 - 1).then(
          () => "written",
          (err: unknown) => describeError(err),
        );
        expect(refused).toMatch(/delivery refused/);
        expect((await repos.calls.findByIds([call.id]))[0]?.status).toBe("queued");
      });

      it("an import that completes writes import.completed with its counts", async () => {
        const t = await tenant();
        const watcher = await hook(t.orgId, ["import.completed", "call.skipped"]);
        await repos.imports.begin({
          id: "imp_done_hook",
          organizationId: t.orgId,
          campaignPk: t.emi.pk,
          state: "processing",
          total: 3,
          initiateCall: true,
          createdAt: T0,
        });
        const counts = { total: 3, valid: 2, invalid: 1, successful: 2, failed: 1, batchesProcessed: 1 };
        expect(
          await repos.imports.complete("imp_done_hook", 1, counts, { status: 207, body: null }, T0 + 999),
        ).toEqual({ completed: true, notifies: true });
        // Completing it again (a replayed attempt) is refused, and records nothing more.
        expect(
          (await repos.imports.complete("imp_done_hook", 1, counts, { status: 207, body: null }, T0 + 1000))
            .completed,
        ).toBe(false);
        const [delivery, ...more] = await deliveriesOf(watcher.pk);
        expect(more).toEqual([]);
        expect(delivery?.body).toEqual({
          type: "import.completed",
          timestamp: iso(T0 + 999),
          data: {
            importId: "imp_done_hook",
            kind: "bulk",
            campaignId: "emi",
            results: counts,
            initiateCall: true,
            useWorkflow: false,
            createdAt: iso(T0),
            completedAt: iso(T0 + 999),
          },
        });

        // The counts only some kinds have come with them: a refresh's split, an initiation's matches.
        for (const [id, kind, extra] of [
          ["imp_refresh_hook", "bulk", { added: 1, updated: 1, unchanged: 0 }],
          ["imp_initiation_hook", "initiation", { matched: 9 }],
        ] as const) {
          await repos.imports.begin({
            id,
            organizationId: t.orgId,
            campaignPk: t.emi.pk,
            kind,
            state: "processing",
            createdAt: T0,
          });
          await repos.imports.complete(id, 1, { ...counts, ...extra }, { status: 201, body: null }, T0 + 5);
        }
        const [, refresh, initiation] = await deliveriesOf(watcher.pk);
        expect(refresh?.body.data).toMatchObject({
          kind: "bulk",
          results: { ...counts, added: 1, updated: 1, unchanged: 0 },
        });
        expect(initiation?.body.data).toMatchObject({
          kind: "initiation",
          results: { ...counts, matched: 9 },
        });
      });

      it("a workflow run that ends writes workflow.completed or workflow.failed", async () => {
        const t = await tenant();
        const watcher = await hook(t.orgId, ["workflow.completed", "workflow.failed"]);
        const importId = `imp_${crypto.randomUUID()}`;
        await repos.imports.begin({
          id: importId,
          organizationId: t.orgId,
          campaignPk: t.emi.pk,
          state: "processing",
          createdAt: T0,
        });
        const added = await insertChunk(repos.customers, t.emi.pk, importId, T0, [
          loanRow(1),
          loanRow(2),
          loanRow(3),
        ]);
        const ids = [...added.values()];
        await repos.workflowRuns.ensureRuns(importId, 0, ids, T0 + 1);
        const [done, broken, never] = ids.map((id) => workflowInstanceId(importId, id)) as [
          string,
          string,
          string,
        ];
        await repos.workflowRuns.markStarted([done, broken], T0 + 2);
        await repos.workflowRuns.update(done, { status: "running", step: 0 }, T0 + 3);
        await repos.workflowRuns.update(done, { status: "completed", outcome: "stopped_paid" }, T0 + 4);
        await repos.workflowRuns.update(
          broken,
          { status: "failed", lastError: "dialer asked to retry" },
          T0 + 5,
        );
        await repos.workflowRuns.failNeverStarted(
          importId,
          0,
          "dead_lettered: workflows unavailable",
          T0 + 6,
        );
        // A finished run is never moved back, so it never reports twice.
        await repos.workflowRuns.update(done, { status: "failed", lastError: "late" }, T0 + 7);

        const bodies = (await deliveriesOf(watcher.pk)).map((d) => d.body);
        const base = (instanceId: string, customer: number) => ({
          instanceId,
          customerId: ids[customer - 1],
          loan_id: keyOf(customer),
          lead_id: null,
          phone_number: `+9198${String(10_000_000 + customer).slice(-8)}`,
          campaignId: "emi",
          importId,
          createdAt: iso(T0 + 1),
        });
        expect(bodies).toEqual([
          {
            type: "workflow.completed",
            timestamp: iso(T0 + 4),
            data: {
              ...base(done, 1),
              status: "completed",
              outcome: "stopped_paid",
              reason: null,
              step: 0,
              startedAt: iso(T0 + 2),
              finishedAt: iso(T0 + 4),
            },
          },
          {
            type: "workflow.failed",
            timestamp: iso(T0 + 5),
            data: {
              ...base(broken, 2),
              status: "failed",
              outcome: null,
              reason: "dialer asked to retry",
              step: null,
              startedAt: iso(T0 + 2),
              finishedAt: iso(T0 + 5),
            },
          },
          {
            type: "workflow.failed",
            timestamp: iso(T0 + 6),
            data: {
              ...base(never, 3),
              status: "failed",
              outcome: null,
              reason: "dead_lettered: workflows unavailable",
              step: null,
              startedAt: null,
              finishedAt: iso(T0 + 6),
            },
          },
        ]);
      });

      it("writes times exactly as JavaScript's toISOString does", async () => {
        const t = await tenant();
        const watcher = await hook(t.orgId, ["import.completed"]);
        const moments = [
          0, 1, 999, 1_000, 1_700_000_000_001, 1_700_000_000_999, 4_102_444_799_999, 951_782_400_123,
        ];
        for (const [i, at] of moments.entries()) {
          await repos.imports.begin({
            id: `imp_time_${i}_${t.orgId}`,
            organizationId: t.orgId,
            campaignPk: t.emi.pk,
            state: "processing",
            createdAt: at,
          });
          await repos.imports.complete(
            `imp_time_${i}_${t.orgId}`,
            1,
            { total: 0, valid: 0, invalid: 0, successful: 0, failed: 0, batchesProcessed: 0 },
            { status: 201, body: null },
            at,
          );
        }
        const times = (await deliveriesOf(watcher.pk)).map((d) => [d.body.timestamp, d.body.data.createdAt]);
        expect(times).toEqual(moments.map((m) => [iso(m), iso(m)]));
      });

      it("hands each pending delivery to exactly one claimer, and takes back a claim whose send failed", async () => {
        const t = await tenant();
        const watcher = await hook(t.orgId, ["call.skipped"]);
        const { calls } = await callsFor(t, 6, 2000);
        await repos.calls.markSkipped(
          calls.map((c) => c.id),
          "paid",
          T0 + 1,
          T0 - 1,
        );
        const mine = new Set((await deliveriesOf(watcher.pk)).map((d) => d.id));
        expect(mine.size).toBe(6);

        // Claims compete with every other test's pending rows, so only this webhook's are counted.
        const claims = await Promise.all([
          repos.webhookDeliveries.claimUnqueued(10_000, T0 + 2),
          repos.webhookDeliveries.claimUnqueued(10_000, T0 + 2),
        ]);
        const ours = claims.map((ids) => ids.filter((id) => mine.has(id)));
        expect(ours.flat().sort()).toEqual([...mine].sort());
        expect(new Set(ours.flat()).size).toBe(6);
        expect(await repos.webhookDeliveries.claimUnqueued(10_000, T0 + 3)).not.toEqual(
          expect.arrayContaining([...mine]),
        );

        const [first, second, ...rest] = [...mine];
        await repos.webhookDeliveries.releaseClaims(
          [first as string],
          "could not be handed to the queue: down",
          T0 + 4,
        );
        const again = await repos.webhookDeliveries.claimUnqueued(10_000, T0 + 5);
        expect(again.filter((id) => mine.has(id))).toEqual([first]);

        // A claimed delivery whose next attempt is long overdue lost its message.
        const overdue = await repos.webhookDeliveries.claimOverdue(T0 + 5, 10_000, T0 + 100);
        expect(overdue.filter((id) => mine.has(id)).sort()).toEqual([second, ...rest].sort());
        expect(
          (await repos.webhookDeliveries.claimOverdue(T0 + 5, 10_000, T0 + 101)).filter((id) => mine.has(id)),
        ).toEqual([]);
      });

      it("records attempts: retries keep it pending, success and giving up finish it, and only a finished one can be redelivered", async () => {
        const t = await tenant();
        const watcher = await hook(t.orgId, ["call.skipped"]);
        const { calls } = await callsFor(t, 2, 3000);
        await repos.calls.markSkipped(
          calls.map((c) => c.id),
          "paid",
          T0 + 1,
          T0 - 1,
        );
        const [a, b] = (await deliveriesOf(watcher.pk)).map((d) => d.id) as [string, string];
        const dlv = repos.webhookDeliveries;

        expect(
          await dlv.recordAttempt(
            a,
            { outcome: "retry", responseStatus: 500, error: "HTTP 500", nextAttemptAt: T0 + 60_000 },
            T0 + 10,
          ),
        ).toBe(true);
        expect(await dlv.find(watcher.pk, a)).toMatchObject({
          status: "pending",
          attempts: 1,
          lastResponseStatus: 500,
          lastError: "HTTP 500",
          nextAttemptAt: T0 + 60_000,
          lastAttemptAt: T0 + 10,
        });
        expect(await dlv.redeliver(watcher.pk, a, T0 + 11)).toBe("in_flight");
        expect(await dlv.recordAttempt(a, { outcome: "delivered", responseStatus: 204 }, T0 + 20)).toBe(true);
        expect(await dlv.find(watcher.pk, a)).toMatchObject({
          status: "delivered",
          attempts: 2,
          lastResponseStatus: 204,
          lastError: null,
          nextAttemptAt: null,
          deliveredAt: T0 + 20,
        });
        // A late failure report of a delivered delivery changes nothing.
        expect(
          await dlv.recordAttempt(
            a,
            { outcome: "retry", responseStatus: null, error: "timeout", nextAttemptAt: T0 + 99 },
            T0 + 21,
          ),
        ).toBe(false);
        expect(await dlv.markFailed(a, "dead_lettered", T0 + 22)).toBe(false);

        expect(await dlv.markFailed(b, "dead_lettered after 10 attempt(s): HTTP 500", T0 + 30)).toBe(true);
        expect(await dlv.find(watcher.pk, b)).toMatchObject({
          status: "failed",
          lastError: "dead_lettered after 10 attempt(s): HTTP 500",
          nextAttemptAt: null,
        });

        const reopened = await dlv.redeliver(watcher.pk, b, T0 + 40);
        expect(reopened).toMatchObject({ id: b, status: "pending", nextAttemptAt: null, deliveredAt: null });
        expect(await dlv.claimUnqueued(10_000, T0 + 41)).toContain(b);
        expect(await dlv.redeliver(watcher.pk, "msg_unknown", T0 + 42)).toBeUndefined();
        // Another webhook's delivery is not found through this one.
        const stranger = await hook(t.orgId, ["call.skipped"]);
        expect(await dlv.redeliver(stranger.pk, a, T0 + 43)).toBeUndefined();

        expect((await dlv.list(watcher.pk, { limit: 10, status: "delivered" })).map((d) => d.id)).toEqual([
          a,
        ]);
        expect(
          (await dlv.list(watcher.pk, { limit: 10, eventType: "call.failed" })).map((d) => d.id),
        ).toEqual([]);
        const page1 = await dlv.list(watcher.pk, { limit: 1 });
        const page2 = await dlv.list(watcher.pk, { limit: 1, afterPk: page1[0]?.pk });
        expect([...page1, ...page2].map((d) => d.id)).toEqual([a, b]);
      });

      it("a deleted webhook fails its pending deliveries and keeps the others; finished ones expire", async () => {
        const t = await tenant();
        const watcher = await hook(t.orgId, ["call.skipped"]);
        const { calls } = await callsFor(t, 2, 4000);
        await repos.calls.markSkipped(
          calls.map((c) => c.id),
          "paid",
          T0 + 1,
          T0 - 1,
        );
        const [a, b] = (await deliveriesOf(watcher.pk)).map((d) => d.id) as [string, string];
        await repos.webhookDeliveries.recordAttempt(a, { outcome: "delivered", responseStatus: 200 }, 50);
        expect(await repos.webhooks.remove(t.orgId, watcher.id, "the webhook was deleted", T0 + 5)).toBe(
          true,
        );
        expect(await repos.webhooks.remove(t.orgId, watcher.id, "the webhook was deleted", T0 + 6)).toBe(
          false,
        );
        expect(await repos.webhooks.find(t.orgId, watcher.id)).toBeUndefined();
        const after = await deliveriesOf(watcher.pk);
        expect(after.map((d) => [d.id, d.status, d.lastError])).toEqual([
          [a, "delivered", null],
          [b, "failed", "the webhook was deleted"],
        ]);
        expect((await repos.webhookDeliveries.findForSending(b))?.webhook).toMatchObject({
          secret: null,
          previousSecret: null,
          deletedAt: T0 + 5,
        });

        // Delivered at 50 (far before any real clock): past the cut-off, and the only one of this test.
        expect(await repos.webhookDeliveries.deleteFinished(100, 10_000)).toBeGreaterThanOrEqual(1);
        expect((await deliveriesOf(watcher.pk)).map((d) => d.id)).toEqual([b]);
      });

      it("keeps at most the given number of live webhooks per organization, and rotates secrets", async () => {
        const t = await tenant();
        const made = [];
        for (let i = 0; i < 3; i++) {
          const w = await repos.webhooks.create(
            {
              id: `wh_lim_${i}_${t.orgId}`,
              organizationId: t.orgId,
              url: "https://lender.example/x",
              events: ["call.failed"],
              description: null,
              secret: `whsec_${i}`,
              createdAt: T0,
            },
            2,
          );
          made.push(w === "limit_reached" ? w : w.id);
        }
        expect(made).toEqual([`wh_lim_0_${t.orgId}`, `wh_lim_1_${t.orgId}`, "limit_reached"]);
        await repos.webhooks.remove(t.orgId, `wh_lim_0_${t.orgId}`, "deleted", T0);
        expect((await repos.webhooks.list(t.orgId, 10)).map((w) => w.id)).toEqual([`wh_lim_1_${t.orgId}`]);

        const other = await tenant();
        expect(
          await repos.webhooks.rotateSecret(other.orgId, `wh_lim_1_${t.orgId}`, "whsec_x", T0 + 10, T0),
        ).toBeUndefined();
        const rotated = await repos.webhooks.rotateSecret(
          t.orgId,
          `wh_lim_1_${t.orgId}`,
          "whsec_new",
          T0 + 10,
          T0 + 1,
        );
        expect(rotated).toMatchObject({
          previousSecretExpiresAt: T0 + 10,
          webhook: { secretRotatedAt: T0 + 1 },
        });
        const signing = await db.get<{ secret: string; previous_secret: string }>(
          sql`SELECT secret, previous_secret FROM webhooks WHERE id = ${`wh_lim_1_${t.orgId}`}`,
        );
        expect(signing).toEqual({ secret: "whsec_new", previous_secret: "whsec_1" });
        expect((await repos.webhooks.findByUrl(t.orgId, "https://lender.example/x"))?.id).toBe(
          `wh_lim_1_${t.orgId}`,
        );
        expect(await repos.webhooks.findByUrl(other.orgId, "https://lender.example/x")).toBeUndefined();
      });
    });

    describe("dialing policy statements", () => {
      /** An import of customers with their call rows, phone numbers and loans chosen by the test. */
      async function waitingCalls(
        t: Awaited<ReturnType<typeof tenant>>,
        rows: { i: number; phone: string; loan?: string }[],
      ) {
        const importId = `imp_${crypto.randomUUID()}`;
        await repos.imports.begin({
          id: importId,
          organizationId: t.orgId,
          campaignPk: t.emi.pk,
          state: "processing",
          createdAt: T0,
        });
        const added = await insertChunk(
          repos.customers,
          t.emi.pk,
          importId,
          T0,
          rows.map((r) => loanRow(r.i, { phone_number: r.phone, ...(r.loan ? { loan_id: r.loan } : {}) })),
        );
        const customers = await repos.customers.findByIds([...added.values()]);
        const calls = await repos.calls.ensureCalls({
          organizationId: t.orgId,
          campaignPk: t.emi.pk,
          importId,
          batchNo: 0,
          origin: "bulk",
          agentId: null,
          dispositionId: null,
          customers: customers.map((c) => ({ id: c.id, phoneNumber: c.phoneNumber, loanId: c.loanId })),
          at: T0,
        });
        return { importId, calls };
      }
      const capOf = (
        t: Awaited<ReturnType<typeof tenant>>,
        importId: string,
        maxPerDay: number,
      ): ClaimRules => ({
        ...looseRules(t, importId),
        limits: { maxPerDay, maxPer7Days: 50, minGapMinutes: 5 },
      });

      it("claims at most one call per number and per loan in a statement, and counts attempts across imports atomically", async () => {
        const t = await tenant();
        const one = await waitingCalls(t, [
          { i: 9001, phone: "+919810090001" },
          { i: 9002, phone: "+919810090001" },
          { i: 9003, phone: "+919810090002", loan: "LN-SHARED-9" },
          { i: 9004, phone: "+919810090003" },
        ]);
        const two = await waitingCalls(t, [{ i: 9005, phone: "+919810090003" }]);
        // Two claimers at once, each with a cap of one a day on a number both hold.
        const [a, b] = await Promise.all([
          repos.calls.claim(
            one.calls.map((c) => c.id),
            "claim-a",
            T0 + 10,
            T0 - 1,
            capOf(t, one.importId, 1),
          ),
          repos.calls.claim(
            two.calls.map((c) => c.id),
            "claim-b",
            T0 + 10,
            T0 - 1,
            capOf(t, two.importId, 1),
          ),
        ]);
        const taken = [...a, ...b];
        const phones = new Map([...one.calls, ...two.calls].map((c) => [c.id, c.phoneNumber]));
        expect(taken.filter((c) => phones.get(c.id) === "+919810090003")).toHaveLength(1);
        expect(taken.filter((c) => phones.get(c.id) === "+919810090001")).toHaveLength(1);
        expect(taken.every((c) => c.attempts === 1)).toBe(true);
        // Each claim recorded the attempt it began, with its number and loan.
        const history = await repos.calls.contactHistory(
          t.orgId,
          ["+919810090001", "+919810090002", "+919810090003"],
          ["LN-SHARED-9"],
          T0,
        );
        expect(history).toHaveLength(taken.length);
        expect(history.find((h) => h.loanId === "LN-SHARED-9")).toMatchObject({
          phoneNumber: "+919810090002",
          endedAt: null,
        });
      });

      it("cancels every waiting call and unfinished run of the imports it is given, in one batch, once", async () => {
        const t = await tenant();
        const { importId, calls } = await waitingCalls(t, [
          { i: 9101, phone: "+919810091001" },
          { i: 9102, phone: "+919810091002" },
        ]);
        const claimed = await repos.calls.claim(
          [calls[0]!.id],
          "live",
          T0 + 5,
          T0 - 1,
          looseRules(t, importId),
        );
        expect(claimed).toHaveLength(1);
        expect(await repos.dialingControl.unfinishedImportsOfCampaign(t.emi.pk)).toContain(importId);
        const first = await repos.dialingControl.cancelImports([importId], {
          at: T0 + 6,
          leaseExpiredBefore: T0 - 1,
          callOrigin: "bulk",
        });
        // The live claim is left to finish; the waiting call is cancelled.
        expect(first).toEqual({ importIds: [importId], calls: 1, runs: 0 });
        const again = await repos.dialingControl.cancelImports([importId], {
          at: T0 + 7,
          leaseExpiredBefore: T0 - 1,
          callOrigin: "bulk",
        });
        expect(again.importIds).toEqual([]);
        expect((await repos.imports.findById(importId))?.dialingState).toBe("cancelled");
        const rows = await repos.calls.findByIds(calls.map((c) => c.id));
        expect(rows.map((r) => r.status).sort()).toEqual(["cancelled", "dispatching"]);
      });
    });

    dayTwoContract(() => ({ db, repos }));

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

        await insertChunk(repos.customers, a.emi.pk, "imp_a", T0, [loanRow(1)]);
        const bAdded = await insertChunk(repos.customers, b.emi.pk, "imp_b", T0, [loanRow(1)]);
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
        // The revocation answers the key's digest (for the API-key cache to forget it), once.
        expect(await repos.tenancy.revokeApiKey(`key_${hashA}`, T0 + 1)).toBe(hashA);
        expect(await repos.tenancy.revokeApiKey(`key_${hashA}`, T0 + 2)).toBeUndefined();
        expect(await repos.tenancy.findOrganizationIdByKeyHash(hashA)).toBeUndefined();
        expect(await repos.tenancy.findOrganizationIdByKeyHash(hashB)).toBe(b.orgId);
      });
    });
  });
}
