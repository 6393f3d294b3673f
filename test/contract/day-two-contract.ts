// The repository methods of day two (refresh upserts, payments taking effect in the same write,
// single updates, erasure, initiation selection, stopping waiting calls, campaign change and
// deletion), written once and run by the repository contract on every store (D1, libSQL file: and
// :memory:).
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { createCallsRepository } from "../../src/db/calls-repository";
import type { createCampaignsRepository } from "../../src/db/campaigns-repository";
import type { Db } from "../../src/db/client";
import { encodeCustomerRow } from "../../src/db/customer-rows";
import type { createCustomersRepository } from "../../src/db/customers-repository";
import type { createImportsRepository } from "../../src/db/imports-repository";
import type { createOutboxRepository } from "../../src/db/outbox-repository";
import type { createTenancyRepository } from "../../src/db/tenancy-repository";
import type { createWebhookDeliveriesRepository } from "../../src/db/webhook-deliveries-repository";
import type { createWebhooksRepository } from "../../src/db/webhooks-repository";
import type { NormalizedRecord } from "../../src/domain/model/customer";
import type { ClaimRules } from "../../src/domain/ports/calls-repository";
import type { CustomerFilter } from "../../src/domain/ports/customers-repository";
import { insertChunk } from "../support/chunks";

export interface DayTwoRepos {
  tenancy: ReturnType<typeof createTenancyRepository>;
  campaigns: ReturnType<typeof createCampaignsRepository>;
  customers: ReturnType<typeof createCustomersRepository>;
  imports: ReturnType<typeof createImportsRepository>;
  outbox: ReturnType<typeof createOutboxRepository>;
  calls: ReturnType<typeof createCallsRepository>;
  webhooks: ReturnType<typeof createWebhooksRepository>;
  webhookDeliveries: ReturnType<typeof createWebhookDeliveriesRepository>;
}

const T0 = 1_700_000_000_000;
/** Claims older than this are dead; the tests' claims are taken at T0 + 10 (live). */
const LEASE = T0 + 5;
const key = (i: number) => `K-${String(i).padStart(5, "0")}`;
const record = (i: number, overrides: Partial<NormalizedRecord> = {}): NormalizedRecord => ({
  loan_id: key(i),
  first_name: "Asha",
  last_name: "Rao",
  phone_number: `+9198${String(20_000_000 + i).slice(-8)}`,
  emi_amount: 12500,
  emi_due_date: "2026-12-05",
  payment_status: "pending",
  language: "hindi",
  variables: { branch: "Pune" },
  ...overrides,
});
const row = (i: number, overrides: Partial<NormalizedRecord> = {}) =>
  encodeCustomerRow({ dedupeKey: key(i), record: record(i, overrides) });
const noFilter: CustomerFilter = { withoutWaitingCall: false };

/** Contact limits no test here reaches: the claim takes every claimable row it is given. */
function looseRules(t: { orgId: string; campaign: { pk: number } }, importId: string): ClaimRules {
  return {
    organizationId: t.orgId,
    importId,
    campaignPk: t.campaign.pk,
    limits: { maxPerDay: 10, maxPer7Days: 50, minGapMinutes: 5 },
    dayStart: T0 - 86_400_000,
    weekStart: T0 - 7 * 86_400_000,
    unreportedHoldMs: 0,
  };
}

export function dayTwoContract(context: () => { db: Db; repos: DayTwoRepos }): void {
  describe("day two", () => {
    async function tenant() {
      const { repos } = context();
      const orgId = `org_${crypto.randomUUID()}`;
      await repos.tenancy.createOrganization({ id: orgId, name: "Day two", createdAt: T0 });
      const campaign = await repos.campaigns.createCampaign({
        organizationId: orgId,
        id: "book",
        name: "Book",
        campaignType: "emi",
        timezone: "Asia/Kolkata",
        defaultCountry: "IN",
        callingWindow: { start: "08:00", end: "19:00", days: ["mon"] },
        workflow: null,
        createdAt: T0,
      });
      if (!campaign) throw new Error("campaign not created");
      return { orgId, campaign };
    }

    async function importOf(t: Awaited<ReturnType<typeof tenant>>, id = `imp_${crypto.randomUUID()}`) {
      await context().repos.imports.begin({
        id,
        organizationId: t.orgId,
        campaignPk: t.campaign.pk,
        state: "processing",
        createdAt: T0,
      });
      return id;
    }

    /** Customers 1..n of a fresh import, each with one waiting (queued) call. */
    async function withCalls(t: Awaited<ReturnType<typeof tenant>>, n: number) {
      const { repos } = context();
      const importId = await importOf(t);
      const added = await insertChunk(
        repos.customers,
        t.campaign.pk,
        importId,
        T0,
        Array.from({ length: n }, (_, i) => row(i + 1)),
      );
      const customers = await repos.customers.findByIds([...added.values()]);
      const calls = await repos.calls.ensureCalls({
        organizationId: t.orgId,
        campaignPk: t.campaign.pk,
        importId,
        batchNo: 0,
        origin: "bulk",
        agentId: null,
        dispositionId: null,
        customers: customers.map((c) => ({ id: c.id, phoneNumber: c.phoneNumber, loanId: c.loanId })),
        at: T0,
      });
      return { importId, customers, calls, rules: looseRules(t, importId) };
    }

    const statusOf = async (callIds: string[]) =>
      (await context().repos.calls.findByIds(callIds))
        .sort((a, b) => a.pk - b.pk)
        .map((c) => [c.status, c.reason]);

    describe("an import completed by its chunk writes", () => {
      const handOff = { kind: "call" as const, batchSize: 2 };
      const counts = { total: 4, valid: 4, invalid: 0, successful: 4, failed: 0, batchesProcessed: 2 };
      const write = (
        t: Awaited<ReturnType<typeof tenant>>,
        importId: string,
        rows: string[],
        customers: number,
      ) =>
        context().repos.customers.upsertChunk(t.campaign.pk, importId, T0, rows, {
          onExisting: "skip",
          handOff,
          stopsPaid: false,
          leaseExpiredBefore: LEASE,
          completion: {
            importId,
            attempt: 1,
            kind: "call",
            customers,
            counts,
            answer: { status: 201, body: "packed-answer" },
            completedAt: T0 + 5,
          },
        });

      it("completes it in the last chunk's write once every customer was added, with its answer", async () => {
        const { repos } = context();
        const t = await tenant();
        const importId = await importOf(t);
        const first = await write(t, importId, [row(1), row(2)], 4);
        expect(first.completed).toBeUndefined();
        expect((await repos.imports.findById(importId))?.state).toBe("processing");
        const last = await write(t, importId, [row(3), row(4)], 4);
        expect(last.completed).toEqual({ notifies: false });
        expect(await repos.imports.findById(importId)).toMatchObject({
          state: "completed",
          responseStatus: 201,
          completedAt: T0 + 5,
          successful: 4,
          batchesProcessed: 2,
        });
        expect(await repos.imports.storedResponse(importId)).toBe("packed-answer");
      });

      it("leaves it processing when a chunk added fewer customers than it was given", async () => {
        const { repos } = context();
        const t = await tenant();
        await insertChunk(repos.customers, t.campaign.pk, await importOf(t), T0, [row(2)]);
        const importId = await importOf(t);
        await write(t, importId, [row(1), row(2)], 4);
        const last = await write(t, importId, [row(3), row(4)], 4);
        expect(last.completed).toBeUndefined();
        expect((await repos.imports.findById(importId))?.state).toBe("processing");
        expect(await repos.imports.storedResponse(importId)).toBeUndefined();
      });
    });

    describe("refresh upserts", () => {
      it("updates keys the campaign holds in place and tells added from updated; identical rows are left alone", async () => {
        const { repos } = context();
        const t = await tenant();
        const first = await repos.customers.upsertChunk(t.campaign.pk, "imp_1", T0, [row(1), row(2)], {
          onExisting: "update",
          stopsPaid: false,
          leaseExpiredBefore: LEASE,
        });
        expect(first.added).toEqual(new Set([key(1), key(2)]));
        expect(first.updated.size).toBe(0);

        const second = await repos.customers.upsertChunk(
          t.campaign.pk,
          "imp_2",
          T0 + 1,
          [
            row(1),
            row(2, { emi_due_date: "2027-01-05", last_name: undefined, variables: undefined }),
            row(3),
          ],
          { onExisting: "update", stopsPaid: false, leaseExpiredBefore: LEASE },
        );
        expect(second.added).toEqual(new Set([key(3)]));
        expect(second.updated).toEqual(new Set([key(2)]));

        const stored = await repos.customers.list(t.campaign.pk, 10);
        expect(stored.map((c) => [c.loanId, c.importId, c.createdAt, c.updatedAt])).toEqual([
          [key(1), "imp_1", T0, null],
          [key(2), "imp_1", T0, T0 + 1],
          [key(3), "imp_2", T0 + 1, null],
        ]);
        expect(stored[1]).toMatchObject({ emiDueDate: "2027-01-05", lastName: null, variables: {} });

        // onExisting skip never touches a stored row.
        const skipped = await repos.customers.upsertChunk(
          t.campaign.pk,
          "imp_3",
          T0 + 2,
          [row(1, { first_name: "X" })],
          {
            onExisting: "skip",
            stopsPaid: false,
            leaseExpiredBefore: LEASE,
          },
        );
        expect(skipped).toEqual({ added: new Set(), updated: new Set(), batches: [] });
        expect((await repos.customers.findByKey(t.campaign.pk, key(1)))?.firstName).toBe("Asha");
      });

      it("hands over new customers and those an update makes callable again, in the chunk's own write", async () => {
        const { repos } = context();
        const t = await tenant();
        const day1 = await importOf(t);
        const added = await insertChunk(repos.customers, t.campaign.pk, day1, T0, [
          row(1),
          row(2),
          row(3, { payment_status: "paid" }),
          row(4),
          row(5),
        ]);
        const day2 = await importOf(t);
        await repos.customers.upsertChunk(
          t.campaign.pk,
          day2,
          T0 + 1,
          [
            row(1), // unchanged
            row(2, { emi_due_date: "2027-01-05" }), // recalled
            row(3, { payment_status: "bounced" }), // recalled: paid -> bounced
            row(4, { first_name: "Asha K." }), // updated, not recalled
            row(5, { payment_status: "paid", emi_due_date: "2027-01-05" }), // paid: not recalled
            row(6), // new
            row(7), // new
          ],
          {
            onExisting: "update",
            handOff: { kind: "call", batchSize: 1 },
            stopsPaid: true,
            leaseExpiredBefore: LEASE,
          },
        );
        const fresh = await repos.customers.findKeys(t.campaign.pk, [key(6), key(7)]);
        expect(fresh.size).toBe(2);
        const ids = await repos.customers.list(t.campaign.pk, 10);
        const idOf = (i: number) => ids.find((c) => c.loanId === key(i))?.id;
        const batches = await repos.outbox.listForImport(day2);
        expect(batches.map((b) => [b.batchNo, b.customerIds, b.state])).toEqual([
          [0, [added.get(key(2))], "pending"],
          [1, [added.get(key(3))], "pending"],
          [2, [idOf(6)], "pending"],
          [3, [idOf(7)], "pending"],
        ]);
      });

      it("skips the waiting calls of customers the chunk makes paid, never a live claim, in the same write", async () => {
        const { repos } = context();
        const t = await tenant();
        const { calls, rules } = await withCalls(t, 3);
        // Customer 3's call is being dialled right now (a live claim).
        await repos.calls.claim([calls[2]?.id as string], "live", T0 + 10, LEASE, rules);
        await repos.customers.upsertChunk(
          t.campaign.pk,
          "imp_pay",
          T0 + 20,
          [row(1, { payment_status: "paid" }), row(2), row(3, { payment_status: "received" })],
          { onExisting: "update", stopsPaid: true, leaseExpiredBefore: LEASE },
        );
        expect(await statusOf(calls.map((c) => c.id))).toEqual([
          ["skipped", "paid"],
          ["queued", null],
          ["dispatching", null],
        ]);
      });

      it("a chunk refused by the database leaves neither its updates nor its batches", async () => {
        const { repos } = context();
        const t = await tenant();
        const importId = await importOf(t);
        await insertChunk(repos.customers, t.campaign.pk, importId, T0, [row(1)]);
        await expect(
          repos.customers.upsertChunk(
            t.campaign.pk,
            importId,
            T0 + 1,
            [row(1, { emi_due_date: "2027-01-05" }), row(2, { first_name: "__contract_refused__" })],
            {
              onExisting: "update",
              handOff: { kind: "call", batchSize: 500 },
              stopsPaid: false,
              leaseExpiredBefore: LEASE,
            },
          ),
        ).rejects.toThrow(/marked customer refused/);
        expect((await repos.customers.findByKey(t.campaign.pk, key(1)))?.emiDueDate).toBe("2026-12-05");
        expect(await repos.outbox.listForImport(importId)).toEqual([]);
      });
    });

    describe("single updates", () => {
      it("replaces a row only while it still holds what was read, and a payment skips its waiting calls", async () => {
        const { repos } = context();
        const t = await tenant();
        const { customers, calls } = await withCalls(t, 1);
        const current = customers[0]!;
        const paid = {
          dedupeKey: key(1),
          record: record(1, { payment_status: "paid", variables: { branch: "Goa" } }),
        };
        const stale = { ...current, firstName: "Someone else" };
        expect(await repos.customers.replaceOne(stale, paid, T0 + 1, LEASE)).toBe(false);
        expect((await repos.customers.findByKey(t.campaign.pk, key(1)))?.paymentStatus).toBe("pending");

        expect(await repos.customers.replaceOne(current, paid, T0 + 2, LEASE)).toBe(true);
        expect(await repos.customers.findByKey(t.campaign.pk, key(1))).toMatchObject({
          paymentStatus: "paid",
          variables: { branch: "Goa" },
          updatedAt: T0 + 2,
        });
        expect(await statusOf(calls.map((c) => c.id))).toEqual([["skipped", "paid"]]);
        // What was read is no longer there: a second write with it is refused.
        expect(await repos.customers.replaceOne(current, paid, T0 + 3, LEASE)).toBe(false);
      });
    });

    describe("stopping waiting calls", () => {
      it("by customer and by campaign: claimable rows only, with the reason", async () => {
        const { repos } = context();
        const t = await tenant();
        const { customers, calls, rules } = await withCalls(t, 4);
        await repos.calls.claim([calls[3]?.id as string], "live", T0 + 10, LEASE, rules);
        await repos.calls.claim([calls[2]?.id as string], "dead", T0, LEASE, rules);
        const stopped = await repos.calls.stopWaitingForCustomers(
          [customers[0]!.id],
          { status: "cancelled", reason: "erased" },
          T0 + 20,
          LEASE,
        );
        expect(stopped).toBe(1);
        const rest = await repos.calls.stopWaitingForCampaign(
          t.campaign.pk,
          { status: "cancelled", reason: "campaign_deleted" },
          T0 + 21,
          LEASE,
        );
        expect(rest).toBe(2);
        expect(await statusOf(calls.map((c) => c.id))).toEqual([
          ["cancelled", "erased"],
          ["cancelled", "campaign_deleted"],
          ["cancelled", "campaign_deleted"],
          ["dispatching", null],
        ]);
      });

      it("call rows made for an erased customer or a deleted campaign are born cancelled", async () => {
        const { repos } = context();
        const t = await tenant();
        const importId = await importOf(t);
        const added = await insertChunk(repos.customers, t.campaign.pk, importId, T0, [
          row(1),
          row(2),
          row(3),
        ]);
        const [a, b, c] = [...added.values()] as [number, number, number];
        await repos.customers.erase({
          organizationId: t.orgId,
          campaignPk: t.campaign.pk,
          customerIds: [a],
          dropAnswersOf: [],
          at: T0 + 1,
          leaseExpiredBefore: LEASE,
        });
        const made = await repos.calls.ensureCalls({
          organizationId: t.orgId,
          campaignPk: t.campaign.pk,
          importId,
          batchNo: 0,
          origin: "bulk",
          agentId: null,
          dispositionId: null,
          customers: [
            { id: a, phoneNumber: "", loanId: null },
            { id: b, phoneNumber: "+919820000002", loanId: key(2) },
          ],
          at: T0 + 2,
        });
        expect(made.map((r) => [r.customerId, r.status, r.reason])).toEqual([
          [a, "cancelled", "erased"],
          [b, "queued", null],
        ]);
        await repos.campaigns.markDeleted(t.orgId, "book", T0 + 3);
        const later = await repos.calls.ensureCalls({
          organizationId: t.orgId,
          campaignPk: t.campaign.pk,
          importId,
          batchNo: 1,
          origin: "bulk",
          agentId: null,
          dispositionId: null,
          customers: [{ id: c, phoneNumber: "+919820000003", loanId: key(3) }],
          at: T0 + 4,
        });
        expect(later.map((r) => [r.status, r.reason])).toEqual([["cancelled", "campaign_deleted"]]);
      });
    });

    describe("erasure", () => {
      it("blanks the customer everywhere it is kept, frees its key, suppresses and drops answers in one write", async () => {
        const { db, repos } = context();
        const t = await tenant();
        const { importId, customers, calls, rules } = await withCalls(t, 2);
        const [gone, kept] = customers as [(typeof customers)[0], (typeof customers)[0]];
        await repos.calls.claim([calls[0]!.id], "tok", T0 + 10, LEASE, rules);
        await repos.calls.markClaimedFailed(
          "tok",
          [{ id: calls[0]!.id, reason: `no answer on ${gone.phoneNumber}` }],
          T0 + 11,
        );
        // The attempt's outcome as the events path records it, quoting the number.
        await db.run(sql`UPDATE call_attempts SET outcome = 'failed', reason = ${`busy: ${gone.phoneNumber}`}
          WHERE call_pk = ${calls[0]!.pk}`);
        const attemptsOf = (callPk: number) =>
          db.all<{ phone: string; loan: string | null; reason: string | null }>(
            sql`SELECT phone_number AS phone, loan_id AS loan, reason FROM call_attempts WHERE call_pk = ${callPk}`,
          );
        expect(await attemptsOf(calls[0]!.pk)).toEqual([
          { phone: gone.phoneNumber, loan: key(1), reason: `busy: ${gone.phoneNumber}` },
        ]);
        await db.run(sql`INSERT INTO call_events (organization_id, event_id, call_id, status, occurred_at, received_at, payload)
          VALUES (${t.orgId}, ${`evt_${crypto.randomUUID()}`}, ${calls[0]!.id}, 'failed', ${T0}, ${T0},
            ${JSON.stringify({ note: `spoke to ${gone.firstName} ${gone.lastName}` })})`);
        const hook = await repos.webhooks.create(
          {
            id: `wh_${crypto.randomUUID()}`,
            organizationId: t.orgId,
            url: "https://lender.example/h",
            events: ["call.failed"],
            description: null,
            secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
            createdAt: T0,
          },
          20,
        );
        if (hook === "limit_reached") throw new Error("webhook limit");
        await repos.webhookDeliveries.insert({
          id: `msg_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`,
          webhookPk: hook.pk,
          eventType: "call.failed",
          payload: JSON.stringify({
            type: "call.failed",
            data: { customerId: gone.id, loan_id: key(1), phone_number: gone.phoneNumber, reason: "x" },
          }),
          at: T0,
        });
        await repos.imports.complete(
          importId,
          1,
          { total: 2, valid: 2, invalid: 0, successful: 2, failed: 0, batchesProcessed: 1 },
          { status: 201, body: "packed-answer" },
          T0 + 1,
        );
        expect(await repos.imports.withStoredAnswers(t.campaign.pk)).toEqual([importId]);

        const erased = await repos.customers.erase({
          organizationId: t.orgId,
          campaignPk: t.campaign.pk,
          customerIds: [gone.id],
          suppress: { reason: "erasure request" },
          dropAnswersOf: [importId],
          at: T0 + 20,
          leaseExpiredBefore: LEASE,
        });
        expect(erased).toBe(1);

        const [blank] = await repos.customers.findByIds([gone.id]);
        expect(blank).toMatchObject({
          loanId: null,
          firstName: "",
          lastName: null,
          phoneNumber: "",
          emiAmount: null,
          paymentStatus: null,
          variables: {},
          erasedAt: T0 + 20,
          importId,
        });
        expect(await repos.customers.findByKey(t.campaign.pk, key(1))).toBeUndefined();
        expect((await repos.customers.list(t.campaign.pk, 10)).map((c) => c.id)).toEqual([kept.id]);
        const [call0, call1] = await repos.calls
          .findByIds([calls[0]!.id, calls[1]!.id])
          .then((r) => r.sort((x, y) => x.pk - y.pk));
        expect(call0).toMatchObject({
          phoneNumber: "",
          status: "failed",
          reason: "[removed: customer data erased]",
        });
        expect(call1).toMatchObject({ phoneNumber: kept.phoneNumber, status: "queued" });
        // The contact limits' ledger and the decision log keep the attempt and the judgement, not
        // the number, the loan or a reason quoting them; the redaction itself judges nothing.
        const ledger = await db.all<{ callPk: number; loan: string | null }>(
          sql`SELECT call_pk AS callPk, loan_id AS loan FROM call_attempts
            WHERE organization_id = ${t.orgId} AND phone_number = ${gone.phoneNumber}`,
        );
        expect(ledger).toEqual([]);
        expect(await attemptsOf(calls[0]!.pk)).toEqual([
          { phone: "", loan: null, reason: "[removed: customer data erased]" },
        ]);
        const loans = await db.all<{ id: string; loan: string | null }>(
          sql`SELECT id, loan_id AS loan FROM calls WHERE id IN (${calls[0]!.id}, ${calls[1]!.id}) ORDER BY pk`,
        );
        expect(loans.map((l) => l.loan)).toEqual([null, key(2)]);
        expect(await repos.calls.decisionsOf(calls[0]!.pk, 10)).toEqual([
          expect.objectContaining({ status: "failed", reason: "[removed: customer data erased]" }),
        ]);
        const event = await db.get<{ payload: string }>(
          sql`SELECT payload FROM call_events WHERE call_id = ${calls[0]!.id}`,
        );
        expect(event?.payload).not.toMatch(/Asha|Rao/);
        const [delivery] = await repos.webhookDeliveries.list(hook.pk, { limit: 10 });
        expect(JSON.parse(delivery?.payload ?? "{}").data).toEqual({
          customerId: gone.id,
          loan_id: null,
          phone_number: null,
          reason: "x",
        });
        expect(await repos.imports.storedResponse(importId)).toBeUndefined();
        const suppressed = await db.get<{ n: number }>(
          sql`SELECT count(*) AS n FROM suppressions WHERE organization_id = ${t.orgId} AND phone_number = ${gone.phoneNumber}`,
        );
        expect(Number(suppressed?.n)).toBe(1);
        // The key is free again; erasing twice erases nothing.
        const again = await insertChunk(repos.customers, t.campaign.pk, "imp_again", T0 + 30, [row(1)]);
        expect([...again.keys()]).toEqual([key(1)]);
        expect(
          await repos.customers.erase({
            organizationId: t.orgId,
            campaignPk: t.campaign.pk,
            customerIds: [gone.id],
            dropAnswersOf: [],
            at: T0 + 40,
            leaseExpiredBefore: LEASE,
          }),
        ).toBe(0);
        expect(await repos.customers.listIdsToErase(t.campaign.pk, 10)).toEqual(
          [kept.id, again.get(key(1))].sort((x, y) => (x as number) - (y as number)),
        );
      });
    });

    describe("initiation selection", () => {
      it("counts and selects the matching customers in id order, batches of a size, within a limit, resuming", async () => {
        const { repos } = context();
        const t = await tenant();
        const importId = await importOf(t);
        const added = await insertChunk(
          repos.customers,
          t.campaign.pk,
          importId,
          T0,
          Array.from({ length: 12 }, (_, i) =>
            row(i + 1, {
              payment_status: i % 4 === 0 ? "paid" : "bounced",
              language: i % 2 === 0 ? "hindi" : "tamil",
              variables: { branch: i < 6 ? "Pune" : "Kochi", dpd: i },
            }),
          ),
        );
        const ids = [...added.values()].sort((a, b) => a - b);
        const filter: CustomerFilter = {
          languages: ["hindi"],
          variables: [["branch", "Pune"]],
          withoutWaitingCall: true,
        };
        // Hindi and Pune: customers 1, 3, 5 (i = 0, 2, 4); 1 and 5 are paid (i % 4 === 0).
        expect(await repos.customers.countMatching(t.campaign.pk, filter)).toBe(1);
        expect(
          await repos.customers.countMatching(t.campaign.pk, { ...filter, paymentStatuses: ["paid"] }),
        ).toBe(2);
        expect(await repos.customers.countMatching(t.campaign.pk, noFilter)).toBe(9);
        expect(
          await repos.customers.countMatching(t.campaign.pk, {
            ids: [key(2), key(3), key(99)],
            withoutWaitingCall: false,
          }),
        ).toBe(2);
        expect(
          await repos.customers.countMatching(t.campaign.pk, {
            excludeIds: [key(2)],
            variables: [["dpd", 1]],
            withoutWaitingCall: false,
          }),
        ).toBe(0);

        const initiation = await importOf(t);
        const first = await repos.outbox.selectIntoBatches(initiation, t.campaign.pk, noFilter, {
          batchSize: 2,
          limit: 5,
          batchesPerWrite: 2,
          at: T0,
        });
        expect(first).toEqual([
          { batchNo: 0, size: 2 },
          { batchNo: 1, size: 2 },
          { batchNo: 2, size: 1 },
        ]);
        const notPaid = ids.filter((_, i) => i % 4 !== 0);
        expect((await repos.outbox.listForImport(initiation)).flatMap((b) => b.customerIds)).toEqual(
          notPaid.slice(0, 5),
        );
        // A retry continues where the committed batches stopped, still within the limit.
        expect(
          await repos.outbox.selectIntoBatches(initiation, t.campaign.pk, noFilter, {
            batchSize: 2,
            limit: 5,
            batchesPerWrite: 3,
            at: T0,
          }),
        ).toEqual([]);
        const rest = await repos.outbox.selectIntoBatches(initiation, t.campaign.pk, noFilter, {
          batchSize: 2,
          limit: 100,
          batchesPerWrite: 3,
          at: T0,
        });
        expect(rest.reduce((n, b) => n + b.size, 0)).toBe(4);
        expect((await repos.outbox.listForImport(initiation)).flatMap((b) => b.customerIds)).toEqual(notPaid);
      });

      it("finds the customers handed to the call queue whose batch no consumer has reached", async () => {
        const { repos } = context();
        const t = await tenant();
        const other = await tenant();
        const first = await importOf(t);
        const added = await insertChunk(repos.customers, t.campaign.pk, first, T0, [row(1), row(2)], {
          kind: "call",
          batchSize: 1,
        });
        const second = await importOf(t);
        await insertChunk(repos.customers, t.campaign.pk, second, T0, [row(3)], {
          kind: "workflow",
          batchSize: 500,
        });
        await insertChunk(repos.customers, other.campaign.pk, await importOf(other), T0, [row(4)], {
          kind: "call",
          batchSize: 500,
        });
        const ids = [added.get(key(1)), added.get(key(2))] as number[];
        expect((await repos.outbox.customersAwaitingConsumer(t.campaign.pk, "imp_none")).sort()).toEqual(ids);
        expect(await repos.outbox.customersAwaitingConsumer(t.campaign.pk, first)).toEqual([]);
        // The consumer reached batch 0: its customer now has a call row instead.
        const [customer] = await repos.customers.findByIds([ids[0] as number]);
        await repos.calls.ensureCalls({
          organizationId: t.orgId,
          campaignPk: t.campaign.pk,
          importId: first,
          batchNo: 0,
          origin: "bulk",
          agentId: null,
          dispositionId: null,
          customers: [{ id: customer!.id, phoneNumber: customer!.phoneNumber, loanId: customer!.loanId }],
          at: T0,
        });
        expect(await repos.outbox.customersAwaitingConsumer(t.campaign.pk, "imp_none")).toEqual([ids[1]]);
        const [batch0, batch1] = await repos.outbox.listForImport(first);
        await repos.outbox.markDone(batch1!.id, T0);
        expect(await repos.outbox.customersAwaitingConsumer(t.campaign.pk, "imp_none")).toEqual([]);
        expect(batch0?.batchNo).toBe(0);
        expect(
          await repos.customers.countMatching(t.campaign.pk, {
            excludeCustomerIds: ids,
            withoutWaitingCall: false,
          }),
        ).toBe(1);
      });

      it("leaves out customers with a call waiting or being dialled", async () => {
        const { repos } = context();
        const t = await tenant();
        const { customers, calls } = await withCalls(t, 3);
        await repos.calls.markSkipped([calls[1]!.id], "suppressed", T0 + 1, LEASE);
        expect(await repos.customers.countMatching(t.campaign.pk, { withoutWaitingCall: true })).toBe(1);
        const initiation = await importOf(t);
        await repos.outbox.selectIntoBatches(
          initiation,
          t.campaign.pk,
          { withoutWaitingCall: true },
          {
            batchSize: 500,
            limit: 10,
            batchesPerWrite: 1,
            at: T0,
          },
        );
        expect((await repos.outbox.listForImport(initiation)).flatMap((b) => b.customerIds)).toEqual([
          customers[1]!.id,
        ]);
      });
    });

    describe("campaign change and deletion", () => {
      it("changes fields, deletes into a state only running work sees, frees the id, and tracks the purge", async () => {
        const { repos } = context();
        const t = await tenant();
        const changed = await repos.campaigns.updateCampaign(t.orgId, "book", {
          name: "Renamed",
          callingWindow: { start: "09:00", end: "17:00", days: ["tue"] },
          workflow: { steps: [{ type: "call" }] },
          agentId: "a",
          dispositionId: "d",
        });
        expect(changed).toMatchObject({
          name: "Renamed",
          callingWindow: { start: "09:00", end: "17:00", days: ["tue"] },
          workflow: { steps: [{ type: "call" }] },
          agentId: "a",
          dispositionId: "d",
          campaignType: "emi",
          deletedAt: null,
        });
        expect(
          await repos.campaigns.updateCampaign(t.orgId, "book", { agentId: null, dispositionId: null }),
        ).toMatchObject({ agentId: null, name: "Renamed" });
        expect(
          await repos.campaigns.updateCampaign(`org_${crypto.randomUUID()}`, "book", { name: "x" }),
        ).toBeUndefined();

        const { importId } = await withCalls(t, 2);
        expect(await repos.campaigns.activeWork(t.campaign.pk)).toEqual({ calls: 2, batches: 0, runs: 0 });

        const deleted = await repos.campaigns.markDeleted(t.orgId, "book", T0 + 5);
        expect(deleted).toMatchObject({ pk: t.campaign.pk, deletedAt: T0 + 5 });
        expect(await repos.campaigns.markDeleted(t.orgId, "book", T0 + 6)).toBeUndefined();
        expect(await repos.campaigns.findCampaign(t.orgId, "book")).toBeUndefined();
        expect(await repos.campaigns.listCampaigns(t.orgId, 10)).toEqual([]);
        expect((await repos.campaigns.findCampaignByPk(t.campaign.pk))?.deletedAt).toBe(T0 + 5);
        expect((await repos.imports.find(t.orgId, importId))?.campaignPk).toBe(t.campaign.pk);

        const reborn = await repos.campaigns.createCampaign({
          ...t.campaign,
          organizationId: t.orgId,
          name: "New",
        });
        expect(reborn?.pk).not.toBe(t.campaign.pk);
        expect((await repos.campaigns.findCampaign(t.orgId, "book"))?.pk).toBe(reborn?.pk);

        expect((await repos.campaigns.listUnpurged(1000)).map((c) => c.pk)).toContain(t.campaign.pk);
        await repos.campaigns.markPurged(t.campaign.pk, T0 + 7);
        expect((await repos.campaigns.listUnpurged(1000)).map((c) => c.pk)).not.toContain(t.campaign.pk);
      });

      it("drops the stored answers of a campaign's imports and keeps their counts", async () => {
        const { repos } = context();
        const t = await tenant();
        const importId = await importOf(t);
        const counts = { total: 1, valid: 1, invalid: 0, successful: 1, failed: 0, batchesProcessed: 1 };
        await repos.imports.complete(
          importId,
          1,
          { ...counts, added: 1, updated: 0, unchanged: 0 },
          { status: 201, body: "a" },
          T0,
        );
        await repos.imports.dropStoredAnswersOfCampaign(t.campaign.pk);
        expect(await repos.imports.storedResponse(importId)).toBeUndefined();
        expect(await repos.imports.find(t.orgId, importId)).toMatchObject({
          ...counts,
          kind: "bulk",
          added: 1,
          updated: 0,
          unchanged: 0,
          matched: null,
        });
      });
    });
  });
}
