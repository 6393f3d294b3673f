import { and, asc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Webhook, WebhookEventType } from "../domain/model/webhook";
import type { WebhooksRepository } from "../domain/ports/webhooks-repository";
import type { Db } from "./client";
import { webhookDeliveries, webhooks } from "./schema";

type WebhookRow = typeof webhooks.$inferSelect;

function toWebhook(row: WebhookRow): Webhook {
  return {
    pk: row.pk,
    id: row.id,
    organizationId: row.organizationId,
    url: row.url,
    // Validated when the webhook was stored.
    events: JSON.parse(row.events) as WebhookEventType[],
    description: row.description,
    createdAt: row.createdAt,
    secretRotatedAt: row.secretRotatedAt,
  };
}

const live = isNull(webhooks.deletedAt);

export function createWebhooksRepository(db: Db): WebhooksRepository {
  const own = (organizationId: string, id: string) =>
    and(eq(webhooks.organizationId, organizationId), eq(webhooks.id, id), live);

  return {
    // Raw SQL: the limit is checked by the INSERT itself (INSERT ... SELECT ... WHERE count < max),
    // which the query builder cannot express.
    async create(w, maxPerOrganization) {
      const rows = await db.all<{ pk: number }>(sql`INSERT INTO webhooks (id, organization_id, url, events,
          description, secret, created_at)
        SELECT ${w.id}, ${w.organizationId}, ${w.url}, ${JSON.stringify(w.events)}, ${w.description},
          ${w.secret}, ${w.createdAt}
        WHERE (SELECT count(*) FROM webhooks
               WHERE organization_id = ${w.organizationId} AND deleted_at IS NULL) < ${maxPerOrganization}
        RETURNING pk`);
      const pk = rows[0]?.pk;
      if (pk === undefined) return "limit_reached";
      return {
        pk,
        id: w.id,
        organizationId: w.organizationId,
        url: w.url,
        events: [...w.events],
        description: w.description,
        createdAt: w.createdAt,
        secretRotatedAt: null,
      };
    },

    async find(organizationId, id) {
      const row = await db.select().from(webhooks).where(own(organizationId, id)).get();
      return row ? toWebhook(row) : undefined;
    },

    async findByUrl(organizationId, url) {
      const row = await db
        .select()
        .from(webhooks)
        .where(and(eq(webhooks.organizationId, organizationId), eq(webhooks.url, url), live))
        .orderBy(asc(webhooks.pk))
        .limit(1)
        .get();
      return row ? toWebhook(row) : undefined;
    },

    async list(organizationId, limit, afterPk) {
      const rows = await db
        .select()
        .from(webhooks)
        .where(
          and(
            eq(webhooks.organizationId, organizationId),
            live,
            afterPk === undefined ? undefined : gt(webhooks.pk, afterPk),
          ),
        )
        .orderBy(asc(webhooks.pk))
        .limit(limit);
      return rows.map(toWebhook);
    },

    // One atomic batch: the webhook stops receiving and loses its secrets, and whatever it had
    // pending fails with the reason, so nothing is sent to it afterwards.
    async remove(organizationId, id, reason, at) {
      const [removed] = await db.batch([
        db
          .update(webhooks)
          .set({ deletedAt: at, secret: null, previousSecret: null, previousSecretExpiresAt: null })
          .where(own(organizationId, id))
          .returning({ pk: webhooks.pk }),
        db
          .update(webhookDeliveries)
          .set({ status: "failed", lastError: reason, nextAttemptAt: null, updatedAt: at })
          .where(
            and(
              eq(webhookDeliveries.status, "pending"),
              eq(
                webhookDeliveries.webhookPk,
                sql`(SELECT pk FROM webhooks WHERE organization_id = ${organizationId} AND id = ${id})`,
              ),
            ),
          ),
      ]);
      return removed.length > 0;
    },

    // SET expressions read the row as it was, so previous_secret takes the secret being replaced.
    async rotateSecret(organizationId, id, secret, previousExpiresAt, at) {
      const rows = await db
        .update(webhooks)
        .set({
          previousSecret: sql`${webhooks.secret}`,
          previousSecretExpiresAt: sql`CASE WHEN ${webhooks.secret} IS NULL THEN NULL ELSE ${previousExpiresAt} END`,
          secret,
          secretRotatedAt: at,
        })
        .where(own(organizationId, id))
        .returning();
      const row = rows[0];
      return row
        ? { webhook: toWebhook(row), previousSecretExpiresAt: row.previousSecretExpiresAt }
        : undefined;
    },
  };
}
