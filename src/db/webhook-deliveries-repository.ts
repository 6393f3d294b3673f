// Webhook deliveries. Rows for outcome events are inserted by the triggers of migration 0005; this
// repository reads them and moves them along: pending -> delivered | failed. Hand-off claims are
// single conditional UPDATEs with RETURNING, which SQLite runs atomically, so two callers never
// send the same delivery to the queue.
import { and, asc, eq, gt, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { DeliveryEventType, WebhookDelivery } from "../domain/model/webhook";
import type { WebhookDeliveriesRepository } from "../domain/ports/webhooks-repository";
import type { Db } from "./client";
import { webhookDeliveries, webhooks } from "./schema";
import { inList } from "./sql";

type DeliveryRow = typeof webhookDeliveries.$inferSelect;

const toDelivery = (row: DeliveryRow): WebhookDelivery => ({
  ...row,
  eventType: row.eventType as DeliveryEventType,
});

/** Longest error text kept per delivery: enough for a status line and the start of a body. */
const MAX_ERROR_CHARS = 1000;

export function createWebhookDeliveriesRepository(db: Db): WebhookDeliveriesRepository {
  const d = webhookDeliveries;

  async function claim(where: SQL, limit: number, at: number): Promise<string[]> {
    const rows = await db.all<{ id: string }>(sql`UPDATE webhook_deliveries
      SET next_attempt_at = ${at}, updated_at = ${at}
      WHERE pk IN (SELECT pk FROM webhook_deliveries WHERE ${where} ORDER BY pk LIMIT ${limit}) AND ${where}
      RETURNING id`);
    return rows.map((r) => r.id);
  }

  const find: WebhookDeliveriesRepository["find"] = async (webhookPk, id) => {
    const row = await db
      .select()
      .from(d)
      .where(and(eq(d.webhookPk, webhookPk), eq(d.id, id)))
      .get();
    return row ? toDelivery(row) : undefined;
  };

  return {
    async insert(delivery) {
      const rows = await db
        .insert(d)
        .values({
          id: delivery.id,
          webhookPk: delivery.webhookPk,
          eventType: delivery.eventType,
          payload: delivery.payload,
          status: "pending",
          createdAt: delivery.at,
          updatedAt: delivery.at,
        })
        .onConflictDoNothing()
        .returning({ pk: d.pk });
      return rows.length > 0;
    },

    async list(webhookPk, filter) {
      const rows = await db
        .select()
        .from(d)
        .where(
          and(
            eq(d.webhookPk, webhookPk),
            filter.status === undefined ? undefined : eq(d.status, filter.status),
            filter.eventType === undefined ? undefined : eq(d.eventType, filter.eventType),
            filter.afterPk === undefined ? undefined : gt(d.pk, filter.afterPk),
          ),
        )
        .orderBy(asc(d.pk))
        .limit(filter.limit);
      return rows.map(toDelivery);
    },

    find,

    async findForSending(id) {
      const row = await db
        .select({
          delivery: d,
          webhook: {
            url: webhooks.url,
            secret: webhooks.secret,
            previousSecret: webhooks.previousSecret,
            previousSecretExpiresAt: webhooks.previousSecretExpiresAt,
            deletedAt: webhooks.deletedAt,
          },
        })
        .from(d)
        .innerJoin(webhooks, eq(webhooks.pk, d.webhookPk))
        .where(eq(d.id, id))
        .get();
      return row ? { delivery: toDelivery(row.delivery), webhook: row.webhook } : undefined;
    },

    claimUnqueued: (limit, at) => claim(sql`status = 'pending' AND next_attempt_at IS NULL`, limit, at),

    claimOverdue: (dueBefore, limit, at) =>
      claim(sql`status = 'pending' AND next_attempt_at < ${dueBefore}`, limit, at),

    async releaseClaims(ids, error, at) {
      if (ids.length === 0) return;
      await db
        .update(d)
        .set({ nextAttemptAt: null, lastError: error.slice(0, MAX_ERROR_CHARS), updatedAt: at })
        .where(and(inList(d.id, ids), eq(d.status, "pending")));
    },

    async recordAttempt(id, attempt, at) {
      const common = {
        attempts: sql`${d.attempts} + 1`,
        lastResponseStatus: attempt.responseStatus,
        lastAttemptAt: at,
        updatedAt: at,
      };
      const change =
        attempt.outcome === "delivered"
          ? { ...common, status: "delivered" as const, lastError: null, nextAttemptAt: null, deliveredAt: at }
          : attempt.outcome === "retry"
            ? {
                ...common,
                lastError: attempt.error.slice(0, MAX_ERROR_CHARS),
                nextAttemptAt: attempt.nextAttemptAt,
              }
            : {
                ...common,
                status: "failed" as const,
                lastError: attempt.error.slice(0, MAX_ERROR_CHARS),
                nextAttemptAt: null,
              };
      const from =
        attempt.outcome === "delivered" ? inArray(d.status, ["pending", "failed"]) : eq(d.status, "pending");
      const rows = await db
        .update(d)
        .set(change)
        .where(and(eq(d.id, id), from))
        .returning({ pk: d.pk });
      return rows.length > 0;
    },

    async markFailed(id, reason, at) {
      const rows = await db
        .update(d)
        .set({
          status: "failed",
          lastError: reason.slice(0, MAX_ERROR_CHARS),
          nextAttemptAt: null,
          updatedAt: at,
        })
        .where(and(eq(d.id, id), eq(d.status, "pending")))
        .returning({ pk: d.pk });
      return rows.length > 0;
    },

    async redeliver(webhookPk, id, at) {
      const rows = await db
        .update(d)
        .set({ status: "pending", nextAttemptAt: null, deliveredAt: null, updatedAt: at })
        .where(and(eq(d.webhookPk, webhookPk), eq(d.id, id), inArray(d.status, ["delivered", "failed"])))
        .returning();
      if (rows[0]) return toDelivery(rows[0]);
      const existing = await find(webhookPk, id);
      return existing ? "in_flight" : undefined;
    },

    async deleteFinished(before, limit) {
      const rows = await db
        .delete(d)
        .where(
          inArray(
            d.pk,
            db
              .select({ pk: d.pk })
              .from(d)
              .where(and(inArray(d.status, ["delivered", "failed"]), lt(d.updatedAt, before)))
              .limit(limit),
          ),
        )
        .returning({ pk: d.pk });
      return rows.length;
    },
  };
}
