// dryRun: true on the bulk and the single add answers what the request would answer now and writes
// nothing. Each case sends the same body dry and then for real, compares the two answers, and reads
// back what is stored (nothing after the dry run); the preview of the calls is compared with what
// the real queue and dialer then did.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDeps } from "../src/deps";
import { dryRunBulk } from "../src/domain/intake/add-customers-in-bulk";
import {
  CALL_CONFIG,
  callsOf,
  callTenant,
  createCampaign,
  pinnedClock,
  progressOf,
  until,
  windowOpenNow,
} from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";

const BULK = "/api/v1/customers/add/bulk";
const ADD = "/api/v1/customers/add";

async function storedKeys(campaignId: string, auth: Record<string, string>) {
  const r = await call("GET", `/api/v1/campaigns/${campaignId}/customers?limit=500`, undefined, auth);
  expect(r.status, r.text).toBe(200);
  return (r.json.data as { loan_id: string }[]).map((c) => c.loan_id).sort();
}

async function storedCustomer(campaignId: string, loanId: string, auth: Record<string, string>) {
  const r = await call("GET", `/api/v1/campaigns/${campaignId}/customers?limit=500`, undefined, auth);
  return (r.json.data as { loan_id: string; emi_due_date: string; payment_status: string }[]).find(
    (c) => c.loan_id === loanId,
  );
}

/** A dry answer compared with the real one: the same, less the import and the dry-run marks. */
function asReal(dry: Record<string, unknown>) {
  const { dryRun, preview, ...rest } = dry;
  expect(dryRun).toBe(true);
  return rest;
}

function withoutImport(real: Record<string, unknown>) {
  const { importId, ...rest } = real;
  expect(importId).toMatch(/^imp_/);
  return rest;
}

describe("bulk dryRun", () => {
  it("answers exactly what the real request then answers, stores nothing, and previews its calls", async () => {
    const t = await newTenant();
    const campaignId = "dry-calls";
    await createCampaign(t.auth, { id: campaignId, ...windowOpenNow() });
    const held = await call("POST", BULK, { campaignId, records: [loanRecord(1)] }, t.auth);
    expect(held.status).toBe(201);
    const suppressed = await call(
      "POST",
      "/api/v1/suppressions",
      { phone_numbers: [loanRecord(4).phone_number, loanRecord(5).phone_number] },
      t.auth,
    );
    expect(suppressed.status, suppressed.text).toBe(201);

    const body = {
      campaignId,
      initiateCall: true,
      callConfig: CALL_CONFIG,
      records: [
        loanRecord(1), // held already: duplicate_existing
        loanRecord(2),
        loanRecord(3, { payment_status: "Paid" }), // handed over, skipped at dial time: paid
        loanRecord(4), // suppressed
        loanRecord(5, { payment_status: "received" }), // paid before suppressed
        loanRecord(6, { phone_number: "987654321.0" }), // invalid_record
        loanRecord(2, { first_name: "Other" }), // duplicate_in_request
        loanRecord(7),
      ],
    };
    const dry = await call("POST", BULK, { ...body, dryRun: true }, t.auth);
    expect(dry.status, dry.text).toBe(207);
    expect(dry.headers.get("Idempotent-Replayed")).toBeNull();
    expect(dry.json).toMatchObject({
      success: false,
      message: "Added 5 of 8 records",
      dryRun: true,
      results: { total: 8, valid: 6, invalid: 2, successful: 5, failed: 3, batchesProcessed: 1 },
      callResults: { requested: 5, queued: 5, batches: 1, failed: 0, errors: [] },
      preview: { wouldCall: 2, skipped: { paid: 2, suppressed: 1 } },
    });
    expect(dry.json.importId).toBeUndefined();
    expect(dry.json.results.errors.map((e: { index: number; code: string }) => [e.index, e.code])).toEqual([
      [0, "duplicate_existing"],
      [5, "invalid_record"],
      [6, "duplicate_in_request"],
    ]);
    // The window is open now: the first call would go out at once.
    expect(Math.abs(Date.parse(dry.json.preview.firstCallAt) - Date.now())).toBeLessThan(60_000);

    // Nothing was written: no customer, no import, no call.
    expect(await storedKeys(campaignId, t.auth)).toEqual([loanRecord(1).loan_id]);
    expect(await callsOf(campaignId, t.auth)).toEqual([]);

    const real = await call("POST", BULK, body, t.auth);
    expect(real.status, real.text).toBe(dry.status);
    expect(withoutImport(real.json)).toEqual(asReal(dry.json));
    expect(await storedKeys(campaignId, t.auth)).toEqual(
      [1, 2, 3, 4, 5, 7].map((i) => loanRecord(i).loan_id).sort(),
    );

    // The real queue and dialer then do what the preview said.
    const done = await until(
      "every handed-over call to be judged",
      () => progressOf(real.json.importId, t.auth),
      (p) => p.calls.dispatched + (p.calls.skipped.paid ?? 0) + (p.calls.skipped.suppressed ?? 0) === 5,
    );
    expect(done.calls.dispatched).toBe(dry.json.preview.wouldCall);
    expect(done.calls.skipped).toEqual(dry.json.preview.skipped);
    const dialled = (await callsOf(campaignId, t.auth, "dispatched")).map((c) => c.loan_id).sort();
    expect(dialled).toEqual([loanRecord(2).loan_id, loanRecord(7).loan_id]);
  });

  it("with onExisting update: the same added, updated and unchanged counts and the same recalls", async () => {
    const t = await newTenant();
    const campaignId = "dry-refresh";
    await createCampaign(t.auth, { id: campaignId, ...windowOpenNow() });
    const day1 = await call(
      "POST",
      BULK,
      { campaignId, records: [1, 2, 3, 4].map((i) => loanRecord(i)) },
      t.auth,
    );
    expect(day1.status).toBe(201);

    const body = {
      campaignId,
      onExisting: "update",
      initiateCall: true,
      callConfig: CALL_CONFIG,
      records: [
        loanRecord(1), // unchanged
        loanRecord(2, { emi_due_date: "2027-01-05" }), // updated, callable again: recalled
        loanRecord(3, { last_name: "Iyer" }), // updated, not recalled (due date and status unchanged)
        loanRecord(4, { payment_status: "paid" }), // updated, paid: not recalled
        loanRecord(5), // added
      ],
    };
    const dry = await call("POST", BULK, { ...body, dryRun: true }, t.auth);
    expect(dry.status, dry.text).toBe(201);
    expect(dry.json).toMatchObject({
      results: { added: 1, updated: 3, unchanged: 1, successful: 5 },
      callResults: { requested: 2, batches: 2 },
      preview: { wouldCall: 2, skipped: { paid: 0, suppressed: 0 } },
    });
    // Nothing changed: the stored values are day one's.
    expect((await storedCustomer(campaignId, loanRecord(2).loan_id, t.auth))?.emi_due_date).toBe(
      "2026-12-05",
    );
    expect((await storedCustomer(campaignId, loanRecord(4).loan_id, t.auth))?.payment_status).toBe("pending");
    expect(await storedKeys(campaignId, t.auth)).toHaveLength(4);

    const real = await call("POST", BULK, body, t.auth);
    expect(real.status).toBe(dry.status);
    expect(withoutImport(real.json)).toEqual(asReal(dry.json));
    expect((await storedCustomer(campaignId, loanRecord(2).loan_id, t.auth))?.emi_due_date).toBe(
      "2027-01-05",
    );

    // Sent again dry, the file is now known: every record unchanged, nothing to hand over.
    const again = await call("POST", BULK, { ...body, dryRun: true }, t.auth);
    expect(again.json).toMatchObject({
      results: { added: 0, updated: 0, unchanged: 5 },
      callResults: { requested: 0, batches: 0 },
      preview: { wouldCall: 0, firstCallAt: null },
    });
  });

  it("with useWorkflow: reports the workflows it would trigger, and starts none", async () => {
    const t = await newTenant();
    const body = { campaignId: "emi", useWorkflow: true, callConfig: CALL_CONFIG, records: [loanRecord(1)] };
    const dry = await call("POST", BULK, { ...body, dryRun: true }, t.auth);
    expect(dry.status, dry.text).toBe(201);
    expect(dry.json.workflowTriggered).toBe(true);
    expect(dry.json.preview).toBeUndefined();
    expect(await storedKeys("emi", t.auth)).toEqual([]);
    const real = await call("POST", BULK, body, t.auth);
    expect(withoutImport(real.json)).toEqual(asReal(dry.json));
  });

  it("neither reads nor claims the Idempotency-Key", async () => {
    const t = await newTenant();
    const body = { campaignId: "emi", records: [loanRecord(1), loanRecord(2)] };
    const headers = { ...t.auth, "Idempotency-Key": "daily-2026-11-30" };
    const dry = await call("POST", BULK, { ...body, dryRun: true }, headers);
    expect(dry.status).toBe(201);
    // The real request with the same key is not refused as a different body under a claimed key.
    const real = await call("POST", BULK, body, headers);
    expect(real.status, real.text).toBe(201);
    // A dry run after it is not the stored answer: it judges against what is stored now.
    const after = await call("POST", BULK, { ...body, dryRun: true }, headers);
    expect(after.status).toBe(400);
    expect(after.headers.get("Idempotent-Replayed")).toBeNull();
    expect(after.json.results.errors.map((e: { code: string }) => e.code)).toEqual([
      "duplicate_existing",
      "duplicate_existing",
    ]);
    const replay = await call("POST", BULK, body, headers);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
  });

  it("refuses an envelope error exactly as the real request does", async () => {
    const t = await newTenant();
    const missing = await call(
      "POST",
      BULK,
      { campaignId: "nope", records: [loanRecord(1)], dryRun: true },
      t.auth,
    );
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("campaign_not_found");
    const agent = await call(
      "POST",
      BULK,
      {
        campaignId: "emi",
        records: [loanRecord(1)],
        initiateCall: true,
        callConfig: { agentId: "ghost", dispositionId: "disp-1" },
        dryRun: true,
      },
      t.auth,
    );
    expect(agent.status).toBe(400);
    expect(agent.json.error.code).toBe("unknown_agent");
    const notBoolean = await call(
      "POST",
      BULK,
      { campaignId: "emi", records: [loanRecord(1)], dryRun: "yes" },
      t.auth,
    );
    expect(notBoolean.status).toBe(400);
    expect(notBoolean.json.error.details[0].path).toBe("dryRun");
    expect(await storedKeys("emi", t.auth)).toEqual([]);
  });

  it("outside the calling window: the first call is the window's next opening", async () => {
    const t = await callTenant(); // "ist": 08:00-19:00 Asia/Kolkata, Monday to Saturday
    const orgId = t.orgId;
    // Sunday 2026-11-29, 10:00 IST: closed all day; it opens Monday 08:00 IST (02:30 UTC).
    const deps = createDeps(env, { clock: pinnedClock("2026-11-29T04:30:00Z") });
    const dry = await dryRunBulk(deps, {
      organizationId: orgId,
      campaignId: "ist",
      records: [loanRecord(1), loanRecord(2, { payment_status: "paid" })],
      initiateCall: true,
      useWorkflow: false,
      callConfig: CALL_CONFIG,
    });
    expect(dry.body.preview).toEqual({
      wouldCall: 1,
      skipped: { paid: 1, suppressed: 0 },
      firstCallAt: "2026-11-30T02:30:00.000Z",
    });
    expect(await storedKeys("ist", t.auth)).toEqual([]);
  });

  it("past the organization's blackout dates: the first call is the next opening not blacked out", async () => {
    const t = await callTenant(); // "ist": 08:00-19:00 Asia/Kolkata, Monday to Saturday
    const patched = await call(
      "PATCH",
      "/api/v1/organization",
      { callingWindow: { blackoutDates: ["2026-11-30"] } },
      t.auth,
    );
    expect(patched.status, patched.text).toBe(200);
    // Sunday 2026-11-29 10:00 IST: closed; Monday the 30th is a blackout date: Tuesday 08:00 IST.
    const deps = createDeps(env, { clock: pinnedClock("2026-11-29T04:30:00Z") });
    const dry = await dryRunBulk(deps, {
      organizationId: t.orgId,
      campaignId: "ist",
      records: [loanRecord(1)],
      initiateCall: true,
      useWorkflow: false,
      callConfig: CALL_CONFIG,
    });
    expect(dry.body.preview).toMatchObject({ wouldCall: 1, firstCallAt: "2026-12-01T02:30:00.000Z" });
  });
});

describe("dryRun into a paused campaign", () => {
  it("previews the calls as held: no first call until the campaign is resumed", async () => {
    const t = await newTenant();
    const campaignId = "dry-paused";
    await createCampaign(t.auth, { id: campaignId, ...windowOpenNow() });
    const paused = await call("POST", `/api/v1/campaigns/${campaignId}/pause`, {}, t.auth);
    expect(paused.status, paused.text).toBe(200);
    const body = {
      campaignId,
      initiateCall: true,
      callConfig: CALL_CONFIG,
      records: [loanRecord(1), loanRecord(2)],
    };
    const dry = await call("POST", BULK, { ...body, dryRun: true }, t.auth);
    expect(dry.status, dry.text).toBe(201);
    expect(dry.json.preview).toEqual({
      wouldCall: 2,
      skipped: { paid: 0, suppressed: 0 },
      firstCallAt: null,
      paused: true,
    });
    const resumed = await call("POST", `/api/v1/campaigns/${campaignId}/resume`, {}, t.auth);
    expect(resumed.status, resumed.text).toBe(200);
    const after = await call("POST", BULK, { ...body, dryRun: true }, t.auth);
    expect(after.json.preview.paused).toBeUndefined();
    expect(after.json.preview.firstCallAt).not.toBeNull();
    expect(await storedKeys(campaignId, t.auth)).toEqual([]);
  });
});

describe("single add dryRun", () => {
  it("answers 201, 400 and 409 as the real request would, and stores nothing", async () => {
    const t = await newTenant();
    const campaignId = "dry-one";
    await createCampaign(t.auth, { id: campaignId, ...windowOpenNow() });
    const body = { campaignId, data: loanRecord(1), initiateCall: true, callConfig: CALL_CONFIG };
    const dry = await call("POST", ADD, { ...body, dryRun: true }, t.auth);
    expect(dry.status, dry.text).toBe(201);
    expect(dry.json).toMatchObject({
      success: true,
      message: "Customer added to campaign successfully",
      data: { id: loanRecord(1).loan_id, campaignId },
      callInitiated: true,
      dryRun: true,
      preview: { wouldCall: 1, skipped: { paid: 0, suppressed: 0 } },
    });
    expect(dry.json.importId).toBeUndefined();
    expect(await storedKeys(campaignId, t.auth)).toEqual([]);

    const invalid = await call(
      "POST",
      ADD,
      { ...body, data: loanRecord(2, { emi_due_date: "2026-02-30" }), dryRun: true },
      t.auth,
    );
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.code).toBe("invalid_record");
    expect(invalid.json.error.details[0].path).toBe("data.emi_due_date");

    const real = await call("POST", ADD, body, t.auth);
    expect(real.status).toBe(201);
    expect(withoutImport(real.json)).toEqual(asReal(dry.json));

    const duplicate = await call("POST", ADD, { ...body, dryRun: true }, t.auth);
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.error.code).toBe("duplicate_existing");
    expect(await storedKeys(campaignId, t.auth)).toEqual([loanRecord(1).loan_id]);
  });
});
