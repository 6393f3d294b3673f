// Delivering webhooks to a real receiver on loopback that verifies every request with the Standard
// Webhooks library: signatures, retries with backoff, dead-lettering, 410, timeouts, redelivery,
// secret rotation, deleted webhooks, the cron's re-drive, and organizations kept apart. The test
// plays the WEBHOOKS queue (captured hand-off, messages delivered with a chosen attempt count), except
// where it says the real queue runs.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import { createWebhookSender } from "../src/adapters/webhook-sender";
import { createDeps } from "../src/deps";
import { addCustomersInBulk } from "../src/domain/intake/add-customers-in-bulk";
import type { WebhookMessage } from "../src/domain/model/webhook";
import { systemClock } from "../src/domain/ports/clock";
import { handOffDeliveries } from "../src/domain/webhooks/hand-off";
import {
  callsOf,
  capturingQueue,
  createCampaign,
  deliver,
  failingQueue,
  progressOf,
  seedCallImport,
  until,
  windowOpenNow,
  workerWith,
} from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";
import {
  countsOf,
  deliveriesOf,
  RECEIVER,
  receivedBy,
  registerWebhook,
  type Scenario,
  teachReceiver,
  verifiedBodies,
} from "./webhooks-fixtures";

const WEBHOOKS = "bulkcall-webhooks";
const WEBHOOKS_DLQ = "bulkcall-webhooks-dlq";

let recordNo = 0;
/** Stores one customer through the bulk domain function (no hand-off): one import.completed event. */
async function importOne(orgId: string) {
  const outcome = await addCustomersInBulk(createDeps(env), {
    organizationId: orgId,
    campaignId: "emi",
    records: [loanRecord(++recordNo)],
    initiateCall: false,
    useWorkflow: false,
  });
  return outcome.body.importId;
}

/** Hands pending deliveries to a captured queue and returns the messages for these delivery ids. */
async function handOff(ids: readonly string[]) {
  const queue = capturingQueue<WebhookMessage>();
  await handOffDeliveries({ ...createDeps(env), webhooksQueue: queue });
  return queue.sent.map((m) => m.body).filter((b) => ids.includes(b.deliveryId));
}

/** A tenant, a webhook at the receiver for import.completed, and one such event, not yet queued. */
async function pendingEvent(scenario: Scenario = "ok") {
  const t = await newTenant();
  const hook = await registerWebhook(t.auth, { events: ["import.completed"], scenario });
  const importId = await importOne(t.orgId);
  const [delivery, ...more] = await deliveriesOf(hook.id, t.auth);
  expect(more).toEqual([]);
  return { t, hook, importId, delivery };
}

describe("delivery to the receiver", () => {
  it("POSTs the stored payload, signed so that the Standard Webhooks library verifies it", async () => {
    const { t, hook, importId, delivery } = await pendingEvent();
    expect(delivery).toMatchObject({
      id: expect.stringMatching(/^msg_[0-9a-f]{24}$/),
      eventType: "import.completed",
      status: "pending",
      attempts: 0,
      lastResponseStatus: null,
      nextAttemptAt: null,
    });
    const messages = await handOff([delivery.id]);
    expect(messages).toEqual([{ deliveryId: delivery.id }]);
    const result = await deliver(workerWith({}), WEBHOOKS, messages);
    expect(result.explicitAcks).toHaveLength(1);

    const [request, ...others] = await receivedBy(hook.key);
    expect(others).toEqual([]);
    expect(request).toMatchObject({ verified: true, status: 200 });
    expect(request?.headers["webhook-id"]).toBe(delivery.id);
    expect(request?.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(request?.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    const body = JSON.parse(request?.raw ?? "");
    expect(body).toEqual(delivery.payload);

    // The payload says what GET /api/v1/imports/{id} says.
    const progress = await progressOf(importId, t.auth);
    expect(body).toEqual({
      type: "import.completed",
      timestamp: expect.any(String),
      data: {
        importId,
        kind: "bulk",
        campaignId: "emi",
        results: countsOf(progress.results),
        initiateCall: false,
        useWorkflow: false,
        createdAt: progress.createdAt,
        completedAt: body.timestamp,
      },
    });

    const [after] = await deliveriesOf(hook.id, t.auth);
    expect(after).toMatchObject({
      id: delivery.id,
      status: "delivered",
      attempts: 1,
      lastResponseStatus: 200,
      lastError: null,
      nextAttemptAt: null,
      deliveredAt: expect.any(String),
      lastAttemptAt: expect.any(String),
    });
    // A second message for it (the queue delivers at least once) sends nothing more.
    expect((await deliver(workerWith({}), WEBHOOKS, messages)).explicitAcks).toHaveLength(1);
    expect(await receivedBy(hook.key)).toHaveLength(1);
  });

  it("retries a receiver that answers 500, then records the delivery when it answers 200", async () => {
    const { t, hook, delivery } = await pendingEvent("fail-once-500");
    const messages = await handOff([delivery.id]);
    const first = await deliver(workerWith({}), WEBHOOKS, messages, 1);
    expect(first.explicitAcks).toHaveLength(0);
    expect(first.retryMessages).toHaveLength(1);
    const delay = first.retryMessages[0]?.delaySeconds ?? 0;
    expect(delay).toBeGreaterThanOrEqual(27);
    expect(delay).toBeLessThanOrEqual(33);
    const [waiting] = await deliveriesOf(hook.id, t.auth);
    expect(waiting).toMatchObject({
      status: "pending",
      attempts: 1,
      lastResponseStatus: 500,
      lastError: 'the receiver answered HTTP 500: {"error":"receiver is down"}',
    });
    const due = Date.parse(waiting.nextAttemptAt) - Date.parse(waiting.lastAttemptAt);
    expect(due).toBe(delay * 1000);

    const second = await deliver(workerWith({}), WEBHOOKS, messages, 2);
    expect(second.explicitAcks).toHaveLength(1);
    const [done] = await deliveriesOf(hook.id, t.auth);
    expect(done).toMatchObject({
      status: "delivered",
      attempts: 2,
      lastResponseStatus: 200,
      lastError: null,
    });
    const requests = await receivedBy(hook.key);
    expect(requests.map((r) => [r.verified, r.status])).toEqual([
      [true, 500],
      [true, 200],
    ]);
    expect(new Set(requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([delivery.id]));
  });

  it("backs off for about a day against a receiver that always fails, then dead-letters the delivery as failed", async () => {
    const { t, hook, delivery } = await pendingEvent("always-500");
    const messages = await handOff([delivery.id]);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 10; attempt++) {
      const r = await deliver(workerWith({}), WEBHOOKS, messages, attempt);
      expect(r.retryMessages, `attempt ${attempt}`).toHaveLength(1);
      delays.push(r.retryMessages[0]?.delaySeconds ?? 0);
    }
    // 30 s tripling up to 8 h, each within ±10 %.
    delays.forEach((d, i) => {
      const nominal = Math.min(8 * 3600, 30 * 3 ** i);
      expect(d, `delay ${i + 1}`).toBeGreaterThanOrEqual(Math.floor(nominal * 0.9));
      expect(d, `delay ${i + 1}`).toBeLessThanOrEqual(Math.ceil(nominal * 1.1));
    });
    const untilTenth = delays.slice(0, 9).reduce((a, b) => a + b, 0) / 3600;
    expect(untilTenth).toBeGreaterThan(20);
    expect(untilTenth).toBeLessThan(30);
    expect((await deliveriesOf(hook.id, t.auth))[0]).toMatchObject({ status: "pending", attempts: 10 });

    // The queue's retries are spent: the message goes to the dead-letter queue.
    const dead = await deliver(workerWith({}), WEBHOOKS_DLQ, messages, 1);
    expect(dead.explicitAcks).toHaveLength(1);
    const failed = await deliveriesOf(hook.id, t.auth, "status=failed");
    expect(failed.map((d) => [d.id, d.status, d.attempts, d.nextAttemptAt])).toEqual([
      [delivery.id, "failed", 10, null],
    ]);
    expect(failed[0].lastError).toBe(
      'dead_lettered after 10 attempt(s): the receiver answered HTTP 500: {"error":"receiver is down"}',
    );
    expect(await deliveriesOf(hook.id, t.auth, "status=pending")).toEqual([]);
    // A late duplicate of the message sends nothing.
    await deliver(workerWith({}), WEBHOOKS, messages, 3);
    expect(await receivedBy(hook.key)).toHaveLength(10);
  });

  it("stops at once when the receiver answers 410 Gone", async () => {
    const { t, hook, delivery } = await pendingEvent("gone");
    const r = await deliver(workerWith({}), WEBHOOKS, await handOff([delivery.id]));
    expect(r.explicitAcks).toHaveLength(1);
    const [d] = await deliveriesOf(hook.id, t.auth);
    expect(d).toMatchObject({ status: "failed", attempts: 1, lastResponseStatus: 410 });
    expect(d.lastError).toMatch(/410 Gone: not retried/);
  });

  it("gives up on a receiver that does not answer within the timeout, and retries later", async () => {
    const { t, hook, delivery } = await pendingEvent("hang");
    const sender = createWebhookSender({ clock: systemClock, timeoutMs: 300 });
    const r = await deliver(workerWith({ webhookSender: sender }), WEBHOOKS, await handOff([delivery.id]));
    expect(r.retryMessages).toHaveLength(1);
    const [d] = await deliveriesOf(hook.id, t.auth);
    expect(d).toMatchObject({
      status: "pending",
      attempts: 1,
      lastResponseStatus: null,
      lastError: "no answer within 0.3 s",
    });
    expect(await receivedBy(hook.key)).toHaveLength(1);
  });
});

describe("what a receiver can rely on", () => {
  it("rejects a tampered request: the signature covers id, timestamp and body", async () => {
    const { hook, delivery } = await pendingEvent();
    await deliver(workerWith({}), WEBHOOKS, await handOff([delivery.id]));
    const [original] = await receivedBy(hook.key);
    if (!original) throw new Error("nothing was delivered");
    const replay = (raw: string, headers: Record<string, string | undefined>) =>
      fetch(`${RECEIVER}/hook/ok/${hook.key}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...(headers as Record<string, string>) },
        body: raw,
      });
    const tamperedBody = original.raw.replace('"successful":1', '"successful":9');
    expect(tamperedBody).not.toBe(original.raw);
    expect((await replay(tamperedBody, original.headers)).status).toBe(401);
    expect((await replay(original.raw, { ...original.headers, "webhook-id": "msg_forged" })).status).toBe(
      401,
    );
    const otherSecret = await pendingEvent();
    await deliver(workerWith({}), WEBHOOKS, await handOff([otherSecret.delivery.id]));
    const [foreign] = await receivedBy(otherSecret.hook.key);
    expect((await replay(foreign?.raw ?? "", foreign?.headers ?? {})).status).toBe(401);
    expect((await replay(original.raw, { ...original.headers, "webhook-signature": undefined })).status).toBe(
      401,
    );
    // The untouched request still verifies: the refusals above are the tampering's doing.
    expect((await replay(original.raw, original.headers)).status).toBe(200);
    const log = await receivedBy(hook.key);
    expect(log.map((r) => r.verified)).toEqual([true, false, false, false, false, true]);
  });

  it("keeps organizations apart: each receives only its own events", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const hookA = await registerWebhook(a.auth, { events: ["import.completed"] });
    const hookB = await registerWebhook(b.auth, { events: ["import.completed"] });
    const importA = await importOne(a.orgId);
    const [dA] = await deliveriesOf(hookA.id, a.auth);
    expect(await deliveriesOf(hookB.id, b.auth)).toEqual([]);
    await deliver(workerWith({}), WEBHOOKS, await handOff([dA.id]));
    expect((await verifiedBodies(hookA.key)).map((body) => body.data.importId)).toEqual([importA]);
    expect(await receivedBy(hookB.key)).toEqual([]);
    // B's key cannot read A's deliveries, nor redeliver them through its own webhook.
    expect((await call("GET", `/api/v1/webhooks/${hookA.id}/deliveries`, undefined, b.auth)).status).toBe(
      404,
    );
    const sideways = await call(
      "POST",
      `/api/v1/webhooks/${hookB.id}/deliveries/${dA.id}/redeliver`,
      undefined,
      b.auth,
    );
    expect(sideways.status).toBe(404);
    expect((await deliveriesOf(hookA.id, a.auth))[0]).toMatchObject({ status: "delivered", attempts: 1 });
  });

  it("signs with both secrets for a day after a rotation, so either verifies", async () => {
    const { t, hook, delivery } = await pendingEvent();
    const rotated = await call("POST", `/api/v1/webhooks/${hook.id}/rotate-secret`, undefined, t.auth);
    expect(rotated.status).toBe(200);
    await deliver(workerWith({}), WEBHOOKS, await handOff([delivery.id]));
    const [withOld] = await receivedBy(hook.key);
    expect(withOld?.verified).toBe(true);
    expect(withOld?.headers["webhook-signature"]?.split(" ")).toHaveLength(2);

    await teachReceiver(hook.key, rotated.json.secret);
    await importOne(t.orgId);
    const second = (await deliveriesOf(hook.id, t.auth, "status=pending"))[0];
    await deliver(workerWith({}), WEBHOOKS, await handOff([second.id]));
    expect((await receivedBy(hook.key)).map((r) => r.verified)).toEqual([true, true]);
  });
});

describe("redelivery", () => {
  it("sends a delivered delivery again with the same webhook-id, through the real queue", async () => {
    const { t, hook, delivery } = await pendingEvent();
    await deliver(workerWith({}), WEBHOOKS, await handOff([delivery.id]));
    const r = await call(
      "POST",
      `/api/v1/webhooks/${hook.id}/deliveries/${delivery.id}/redeliver`,
      undefined,
      t.auth,
    );
    expect(r.status, r.text).toBe(202);
    expect(r.json).toMatchObject({ id: delivery.id, status: "pending", attempts: 1, deliveredAt: null });
    const requests = await until(
      "the redelivery to arrive",
      () => receivedBy(hook.key),
      (log) => log.length >= 2,
    );
    expect(requests.map((x) => [x.verified, x.headers["webhook-id"], x.raw])).toEqual([
      [true, delivery.id, requests[0]?.raw],
      [true, delivery.id, requests[0]?.raw],
    ]);
    const after = await until(
      "the delivery to be recorded",
      async () => (await deliveriesOf(hook.id, t.auth))[0],
      (d) => d.status === "delivered",
    );
    expect(after).toMatchObject({ id: delivery.id, attempts: 2, lastResponseStatus: 200 });
  });

  it("reopens a failed delivery; refuses one still pending (409) and unknown ones (404)", async () => {
    const { t, hook, delivery } = await pendingEvent("always-500");
    const path = `/api/v1/webhooks/${hook.id}/deliveries/${delivery.id}/redeliver`;
    const pending = await call("POST", path, undefined, t.auth);
    expect(pending.status).toBe(409);
    expect(pending.json.error.code).toBe("conflict");

    const messages = await handOff([delivery.id]);
    await deliver(workerWith({}), WEBHOOKS, messages, 10);
    await deliver(workerWith({}), WEBHOOKS_DLQ, messages);
    expect((await deliveriesOf(hook.id, t.auth))[0].status).toBe("failed");

    const reopened = await call("POST", path, undefined, t.auth);
    expect(reopened.status).toBe(202);
    expect(reopened.json).toMatchObject({ id: delivery.id, status: "pending", attempts: 1 });
    // The route handed it to the real queue; the receiver still fails, so it is pending again.
    await until(
      "the new attempt",
      () => receivedBy(hook.key),
      (log) => log.length >= 2,
    );
    expect(
      (
        await until(
          "the attempt to be recorded",
          async () => (await deliveriesOf(hook.id, t.auth))[0],
          (d) => d.attempts === 2,
        )
      ).status,
    ).toBe("pending");

    const unknown = await call(
      "POST",
      `/api/v1/webhooks/${hook.id}/deliveries/msg_000000000000000000000000/redeliver`,
      undefined,
      t.auth,
    );
    expect(unknown.status).toBe(404);
    const otherHook = await registerWebhook(t.auth, { events: ["call.failed"] });
    const wrongHook = await call(
      "POST",
      `/api/v1/webhooks/${otherHook.id}/deliveries/${delivery.id}/redeliver`,
      undefined,
      t.auth,
    );
    expect(wrongHook.status).toBe(404);
  });
});

describe("webhooks that cannot be sent to", () => {
  it("a deleted webhook's pending deliveries fail, and a message for one sends nothing", async () => {
    const { t, hook, delivery } = await pendingEvent();
    const messages = await handOff([delivery.id]);
    expect((await call("DELETE", `/api/v1/webhooks/${hook.id}`, undefined, t.auth)).status).toBe(204);
    const row = await env.DB.prepare("SELECT status, last_error FROM webhook_deliveries WHERE id = ?")
      .bind(delivery.id)
      .first();
    expect(row).toEqual({ status: "failed", last_error: "the webhook was deleted" });
    expect((await deliver(workerWith({}), WEBHOOKS, messages)).explicitAcks).toHaveLength(1);
    expect(await receivedBy(hook.key)).toEqual([]);
  });

  it("a webhook the upgrade created from a workflow step URL waits for its first secret", async () => {
    const t = await newTenant();
    const key = `k-${crypto.randomUUID()}`;
    const id = `wh_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
    // As migration 0005 writes it (with a subscription here, to have an event to send).
    await env.DB.prepare(
      "INSERT INTO webhooks (id, organization_id, url, events, description, secret, created_at) VALUES (?, ?, ?, ?, 'Created from the workflow webhook steps that named this URL.', NULL, ?)",
    )
      .bind(id, t.orgId, `${RECEIVER}/hook/ok/${key}`, '["import.completed"]', Date.now())
      .run();
    await importOne(t.orgId);
    const [delivery] = await deliveriesOf(id, t.auth);
    const messages = await handOff([delivery.id]);
    const first = await deliver(workerWith({}), WEBHOOKS, messages, 1);
    expect(first.retryMessages).toHaveLength(1);
    expect((await deliveriesOf(id, t.auth))[0]).toMatchObject({
      status: "pending",
      attempts: 1,
      lastResponseStatus: null,
      lastError: expect.stringMatching(/no signing secret yet: rotate it/),
    });
    expect(await receivedBy(key)).toEqual([]);

    const rotated = await call("POST", `/api/v1/webhooks/${id}/rotate-secret`, undefined, t.auth);
    expect(rotated.json.previousSecretExpiresAt).toBeNull();
    await teachReceiver(key, rotated.json.secret);
    expect((await deliver(workerWith({}), WEBHOOKS, messages, 2)).explicitAcks).toHaveLength(1);
    const [request] = await receivedBy(key);
    expect(request).toMatchObject({ verified: true, status: 200 });
    expect(request?.headers["webhook-signature"]?.split(" ")).toHaveLength(1);
    expect((await deliveriesOf(id, t.auth))[0]).toMatchObject({ status: "delivered", attempts: 2 });
  });
});

describe("nothing is lost between the state change and the queue", () => {
  const cron = () => createScheduledController({ cron: "*/5 * * * *" });

  it("the cron sends deliveries whose hand-off failed, and those whose message was lost", async () => {
    const { t, hook, delivery } = await pendingEvent();
    // The queue is down when the hand-off runs: the delivery stays pending, with the reason.
    const queueFailed = await handOffDeliveries({ ...createDeps(env), webhooksQueue: failingQueue });
    expect(queueFailed).toEqual({ sent: 0, failed: expect.any(Number) });
    expect(queueFailed.failed).toBeGreaterThanOrEqual(1);
    expect((await deliveriesOf(hook.id, t.auth))[0]).toMatchObject({
      status: "pending",
      nextAttemptAt: null,
      lastError: "could not be handed to the queue: queue unavailable",
    });

    const queue = capturingQueue<WebhookMessage>();
    await workerWith({ webhooksQueue: queue }).scheduled(cron(), env);
    expect(queue.sent.map((m) => m.body)).toContainEqual({ deliveryId: delivery.id });
    // Claimed: the next tick does not send it again while its message is on the queue.
    const again = capturingQueue<WebhookMessage>();
    await workerWith({ webhooksQueue: again }).scheduled(cron(), env);
    expect(again.sent.map((m) => m.body)).not.toContainEqual({ deliveryId: delivery.id });

    // The message is lost (nobody attempts it): an hour past its due time the cron sends it again.
    await env.DB.prepare("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?")
      .bind(Date.now() - 61 * 60_000, delivery.id)
      .run();
    const redriven = capturingQueue<WebhookMessage>();
    await workerWith({ webhooksQueue: redriven }).scheduled(cron(), env);
    expect(redriven.sent.map((m) => m.body)).toContainEqual({ deliveryId: delivery.id });
    await deliver(workerWith({}), WEBHOOKS, [{ deliveryId: delivery.id }]);
    expect((await deliveriesOf(hook.id, t.auth))[0]).toMatchObject({ status: "delivered", attempts: 1 });
  });

  it("a slow receiver never holds up the calls: the consumer only queues the event", async () => {
    const t = await newTenant();
    await createCampaign(t.auth, { id: "open", ...windowOpenNow() });
    const hook = await registerWebhook(t.auth, { events: ["call.skipped"], scenario: "hang" });
    const seeded = await seedCallImport(t.orgId, "open", [
      loanRecord(1, { payment_status: "paid" }),
      loanRecord(2),
    ]);
    const webhooksQueue = capturingQueue<WebhookMessage>();
    const batch = await deliver(
      workerWith({ webhooksQueue, dialer: createLogDialer(() => {}) }),
      "bulkcall-calls",
      seeded.messages,
    );
    expect(batch.explicitAcks).toHaveLength(1);
    const calls = await callsOf("open", t.auth);
    expect(calls.map((c) => c.status).sort()).toEqual(["dispatched", "skipped"]);
    const [skipped] = await deliveriesOf(hook.id, t.auth);
    expect(skipped).toMatchObject({ eventType: "call.skipped", status: "pending" });
    expect(webhooksQueue.sent.map((m) => m.body)).toContainEqual({ deliveryId: skipped.id });
    // The receiver was not contacted by the calls consumer at all.
    expect(await receivedBy(hook.key)).toEqual([]);
  });
});
