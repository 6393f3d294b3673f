// The cron re-drive: outbox batches whose queue hand-off was lost are sent again, to the queue of
// their kind, and nothing that is merely waiting is sent twice.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import {
  callTenant,
  capturingQueue,
  createCampaign,
  deliver,
  failingQueue,
  pinnedClock,
  progressOf,
  seedCallImport,
  until,
  windowOpenNow,
  workerWith,
} from "./calls-fixtures";
import { loanRecord, newTenant } from "./helpers";

const cron = () => createScheduledController({ cron: "*/5 * * * *" });

async function outboxState(importId: string) {
  const { results } = await env.DB.prepare(
    "SELECT kind, batch_no AS batchNo, state, send_attempts AS sendAttempts, last_error AS lastError FROM outbox_batches WHERE import_id = ? ORDER BY kind, batch_no",
  )
    .bind(importId)
    .all();
  return results;
}

/** Makes the outbox rows of an import look `minutes` older (the cron judges by updated_at). */
async function age(importId: string, minutes: number) {
  await env.DB.prepare("UPDATE outbox_batches SET updated_at = updated_at - ? WHERE import_id = ?")
    .bind(minutes * 60_000, importId)
    .run();
}

describe("cron re-drive of the outbox", () => {
  it("sends a pending call batch again once it is older than two minutes, and the calls go out", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 520 }, (_, i) => loanRecord(i)),
      {
        queue: failingQueue,
      },
    );
    expect(await outboxState(seeded.importId)).toMatchObject([
      { kind: "call", batchNo: 0, state: "pending", sendAttempts: 1, lastError: "queue unavailable" },
      { kind: "call", batchNo: 1, state: "pending", sendAttempts: 1, lastError: "queue unavailable" },
    ]);
    const calls = capturingQueue();
    const workflows = capturingQueue();
    const clock = pinnedClock(new Date().toISOString());
    const worker = workerWith({
      clock,
      callsQueue: calls,
      workflowsQueue: workflows,
      dialer: createLogDialer(() => {}),
    });

    clock.advance(60_000);
    await worker.scheduled(cron(), env);
    expect(calls.sent).toEqual([]); // a minute old: its request may still be sending it

    clock.advance(2 * 60_000);
    await worker.scheduled(cron(), env);
    expect(calls.sent.map((m) => m.body)).toEqual([
      { kind: "call", importId: seeded.importId, batchNo: 0 },
      { kind: "call", importId: seeded.importId, batchNo: 1 },
    ]);
    expect(workflows.sent).toEqual([]);
    expect(await outboxState(seeded.importId)).toMatchObject([
      { state: "sent", sendAttempts: 2, lastError: null },
      { state: "sent", sendAttempts: 2, lastError: null },
    ]);

    // The next run finds nothing to do.
    await worker.scheduled(cron(), env);
    expect(calls.sent).toHaveLength(2);

    clock.set("2026-11-23T10:00:00+05:30");
    await deliver(
      worker,
      "bulkcall-calls",
      calls.sent.map((m) => m.body),
    );
    const progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 520, dispatched: 520, queued: 0 });
  });

  it("sends a pending workflow batch to the workflow queue", async () => {
    const t = await newTenant();
    const seeded = await seedCallImport(t.orgId, "emi", [loanRecord(1), loanRecord(2)], {
      useWorkflow: true,
      queue: failingQueue,
    });
    const calls = capturingQueue();
    const workflows = capturingQueue();
    const clock = pinnedClock(new Date(Date.now() + 5 * 60_000).toISOString());
    await workerWith({ clock, callsQueue: calls, workflowsQueue: workflows }).scheduled(cron(), env);
    expect(workflows.sent.map((m) => m.body)).toContainEqual({
      kind: "workflow",
      importId: seeded.importId,
      batchNo: 0,
    });
    expect(calls.sent.map((m) => m.body.importId)).not.toContain(seeded.importId);
  });

  it("leaves a failed send pending, with the error, for the next run", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(t.orgId, "ist", [loanRecord(1)], { queue: failingQueue });
    const clock = pinnedClock(new Date(Date.now() + 5 * 60_000).toISOString());
    await workerWith({ clock, callsQueue: failingQueue, workflowsQueue: failingQueue }).scheduled(
      cron(),
      env,
    );
    expect(await outboxState(seeded.importId)).toMatchObject([
      { state: "pending", sendAttempts: 2, lastError: "queue unavailable" },
    ]);
  });

  it("re-sends a batch stuck in sent for over two hours, but not one whose calls wait for their window", async () => {
    const t = await callTenant();
    const stuck = await seedCallImport(t.orgId, "ist", [loanRecord(1)]);
    const waiting = await seedCallImport(t.orgId, "ist", [loanRecord(2)]);
    // A Sunday, years after the rows were written: the "ist" campaign does not call on Sundays, so
    // the waiting batch is delayed to Monday 08:00 IST; the other one has sat in `sent` ever since.
    const requeued = capturingQueue();
    await deliver(
      workerWith({ clock: pinnedClock("2030-12-01T10:00:00+05:30"), callsQueue: requeued }),
      "bulkcall-calls",
      waiting.messages,
    );
    expect(requeued.sent).toHaveLength(1);

    const cronAt = async (iso: string) => {
      const calls = capturingQueue();
      await workerWith({
        clock: pinnedClock(iso),
        callsQueue: calls,
        workflowsQueue: capturingQueue(),
      }).scheduled(cron(), env);
      return calls.sent.map((m) => m.body.importId);
    };
    const sundayEvening = await cronAt("2030-12-01T20:00:00+05:30");
    expect(sundayEvening).toContain(stuck.importId);
    expect(sundayEvening).not.toContain(waiting.importId);

    // Monday 11:00, three hours after the opening, the batch has still not moved: its message is
    // taken as lost and sent again.
    expect(await cronAt("2030-12-02T11:00:00+05:30")).toContain(waiting.importId);
  });
});

describe("cron re-drive, end to end", () => {
  it("a hand-off lost by the bulk request reaches the real queue through the scheduled handler, and the calls go out", async () => {
    const t = await newTenant();
    await createCampaign(t.auth, { id: "open", ...windowOpenNow() });
    const seeded = await seedCallImport(
      t.orgId,
      "open",
      Array.from({ length: 3 }, (_, i) => loanRecord(i)),
      {
        queue: failingQueue,
      },
    );
    await age(seeded.importId, 3);
    // The Worker's own scheduled handler, with its real queues, clock and dialer.
    const worker = (await import("../src/index")).default;
    await worker.scheduled(cron(), env);

    const progress = await until(
      "the re-driven calls to go out",
      () => progressOf(seeded.importId, t.auth),
      (p) => p.calls.dispatched >= 3,
    );
    expect(progress.calls).toMatchObject({ requested: 3, dispatched: 3, queued: 0 });
    expect(await outboxState(seeded.importId)).toMatchObject([{ state: "done" }]);
  });
});
