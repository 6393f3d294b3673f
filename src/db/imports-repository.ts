import { and, asc, eq, inArray, isNotNull, isNull, lt, lte, ne, or, type SQL, sql } from "drizzle-orm";
import type { Import } from "../domain/model/imports";
import type {
  ChunkCompletion,
  ImportClaimRequest,
  ImportLookUp,
  ImportsRepository,
} from "../domain/ports/imports-repository";
import { toCampaign } from "./campaigns-repository";
import type { Db } from "./client";
import { recordSendStatement } from "./outbox-repository";
import { agents, campaigns, dispositions, importResponses, imports, outboxBatches } from "./schema";
import { inList } from "./sql";

/** Characters per stored answer part: well under D1's 2 MB ceiling for one value. */
const RESPONSE_PART_CHARS = 1_000_000;

/**
 * Imports written before leases existed have none: their attempt is taken as abandoned ten
 * minutes after it started, as it was then.
 */
const LEGACY_ABANDONED_AFTER_MS = 10 * 60 * 1000;

/** When the import's running attempt stops holding it. */
const leaseEnd = sql`COALESCE(${imports.leaseExpiresAt}, COALESCE(${imports.startedAt}, ${imports.createdAt}) + ${LEGACY_ABANDONED_AFTER_MS})`;

/**
 * The counts of an import whose attempt died without them: the customers it stored are its
 * successful records and the rest failed; its judgement died with it, so none is counted invalid.
 * Counting by campaign and import reads the campaign's key index: a path taken once per failure.
 */
const storedByImport = sql`(SELECT count(*) FROM customers c WHERE c.campaign_pk = ${imports.campaignPk} AND c.import_id = ${imports.id})`;
const countsFromStored = {
  valid: sql`${imports.total}`,
  invalid: 0,
  successful: storedByImport,
  failed: sql`${imports.total} - ${storedByImport}`,
};

/** Whether the import's organization has a webhook (import.completed deliveries may be waiting). */
function notifiesStatement(db: Db, id: string) {
  return db.all<{ notifies: number }>(sql`SELECT EXISTS (SELECT 1 FROM webhooks w
    WHERE w.organization_id = (SELECT organization_id FROM imports WHERE id = ${id})
      AND w.deleted_at IS NULL) AS notifies`);
}

/**
 * The statements that store `body` (a packed answer, or null for none) as the answer of the import
 * completed by attempt `attempt` at `completedAt`, in place of any stored before; they do nothing
 * unless that completion happened (so they can follow the statement that may make it, in one batch).
 */
function answerStatements(db: Db, id: string, attempt: number, body: string | null, completedAt: number) {
  const mine = sql`EXISTS (SELECT 1 FROM imports WHERE id = ${id} AND attempt = ${attempt}
    AND state = 'completed' AND completed_at = ${completedAt})`;
  const statements: [ReturnType<typeof db.run>, ...ReturnType<typeof db.run>[]] = [
    db.run(sql`DELETE FROM import_responses WHERE import_id = ${id} AND ${mine}`),
  ];
  for (let i = 0, part = 0; body !== null && i < body.length; i += RESPONSE_PART_CHARS, part++) {
    const data = body.slice(i, i + RESPONSE_PART_CHARS);
    statements.push(
      db.run(
        sql`INSERT INTO import_responses (import_id, part, data) SELECT ${id}, ${part}, ${data} WHERE ${mine}`,
      ),
    );
  }
  return statements;
}

/**
 * The statements that complete the import as attempt `attempt` (still processing) with `counts`
 * and store `answer`, when `onlyIf` holds too: the UPDATE first (it returns the import's id when it
 * completed it), `notifies` second, then the answer's parts, which do nothing unless the UPDATE did.
 */
function completingStatements(
  db: Db,
  c: Pick<ChunkCompletion, "importId" | "attempt" | "counts" | "answer" | "completedAt">,
  onlyIf?: SQL,
) {
  return [
    db
      .update(imports)
      .set({ ...c.counts, state: "completed", responseStatus: c.answer.status, completedAt: c.completedAt })
      .where(
        and(
          eq(imports.id, c.importId),
          eq(imports.attempt, c.attempt),
          eq(imports.state, "processing"),
          onlyIf,
        ),
      )
      .returning({ id: imports.id }),
    notifiesStatement(db, c.importId),
    ...answerStatements(db, c.importId, c.attempt, c.answer.body, c.completedAt),
  ] as const;
}

/**
 * The completion of an import's first attempt, for the end of each of its chunk writes (after the
 * statement that writes the chunk's outbox batches): it takes effect in the write after which the
 * import's outbox batches of `kind` list `customers` customers, which is the last chunk to commit,
 * and only when every chunk added every customer it was given (each customer an import adds is in
 * exactly one of its batches). Then it completes the import as ImportsRepository.complete does
 * (completingStatements); otherwise it changes nothing. The chunks' writes are serialized
 * transactions, so exactly one write sees the last batch.
 */
export function completionStatements(db: Db, c: ChunkCompletion) {
  const written = sql`(SELECT COALESCE(SUM(size), 0) FROM outbox_batches
    WHERE import_id = ${c.importId} AND kind = ${c.kind})`;
  return completingStatements(db, c, sql`${written} = ${c.customers}`);
}

/** The renewal of a running attempt's lease, for a chunk's atomic write (see CustomersRepository). */
export function renewLeaseStatement(db: Db, lease: { importId: string; attempt: number; until: number }) {
  return db
    .update(imports)
    .set({ leaseExpiresAt: lease.until })
    .where(
      and(
        eq(imports.id, lease.importId),
        eq(imports.attempt, lease.attempt),
        eq(imports.state, "processing"),
      ),
    );
}

/** The organization's live campaign a look-up names. */
const liveCampaign = (lookUp: ImportLookUp) =>
  and(
    eq(campaigns.organizationId, lookUp.organizationId),
    eq(campaigns.id, lookUp.campaignId),
    isNull(campaigns.deletedAt),
  );

/** The organization's agent or disposition with this id. */
const named = (organizationId: string, table: typeof agents | typeof dispositions, id: string) =>
  and(eq(table.organizationId, organizationId), eq(table.id, id));

/**
 * The INSERT … SELECT of lookUpAndBegin's claim: from the campaign row, only where the look-up's
 * checks hold (so no campaign, or a failed check, inserts nothing), taking the campaign's pk and,
 * without the request's callConfig, its default agent and disposition when it has both. The WHERE
 * also keeps SQLite from reading ON CONFLICT as part of the SELECT.
 */
function claimStatement(db: Db, lookUp: ImportLookUp, { row, requireCallConfig }: ImportClaimRequest) {
  const c = campaigns;
  const config = lookUp.callConfig;
  const hasDefaults = sql`${c.agentId} IS NOT NULL AND ${c.dispositionId} IS NOT NULL`;
  const agentId = config ? sql`${config.agentId}` : sql`CASE WHEN ${hasDefaults} THEN ${c.agentId} END`;
  const dispositionId = config
    ? sql`${config.dispositionId}`
    : sql`CASE WHEN ${hasDefaults} THEN ${c.dispositionId} END`;
  const known = (table: typeof agents | typeof dispositions, id: string) =>
    sql`EXISTS (SELECT 1 FROM ${table} WHERE ${named(lookUp.organizationId, table, id)})`;
  const configured = config
    ? sql`${known(agents, config.agentId)} AND ${known(dispositions, config.dispositionId)}`
    : requireCallConfig
      ? hasDefaults
      : sql`1`;
  return db.all<{ campaignPk: number }>(sql`INSERT INTO ${imports} (id, organization_id,
      campaign_pk, kind, idempotency_key, body_hash, state, total, initiate_call, use_workflow,
      agent_id, disposition_id, created_at, started_at, lease_expires_at)
    SELECT ${row.id}, ${lookUp.organizationId}, ${c.pk}, ${row.kind ?? "bulk"}, ${row.idempotencyKey ?? null},
      ${row.bodyHash ?? null}, ${row.state}, ${row.total ?? 0}, ${row.initiateCall ? 1 : 0},
      ${row.useWorkflow ? 1 : 0}, ${agentId}, ${dispositionId}, ${row.createdAt}, ${row.createdAt},
      ${row.leaseExpiresAt ?? null}
    FROM ${c}
    WHERE ${liveCampaign(lookUp)} AND ${configured}
    ON CONFLICT DO NOTHING
    RETURNING campaign_pk AS campaignPk`);
}

export function createImportsRepository(db: Db): ImportsRepository {
  return {
    // The unique (organization, idempotency key) index lets exactly one request claim a key.
    async begin(row) {
      const rows = await db
        .insert(imports)
        .values({ startedAt: row.createdAt, ...row })
        .onConflictDoNothing()
        .returning({ id: imports.id });
      return rows.length > 0;
    },

    async lookUpAndBegin(lookUp, claim) {
      const { organizationId, callConfig: config, idempotencyKey } = lookUp;
      const reads = [
        db.select().from(campaigns).where(liveCampaign(lookUp)),
        ...(config
          ? [
              db
                .select({ id: agents.id })
                .from(agents)
                .where(named(organizationId, agents, config.agentId)),
              db
                .select({ id: dispositions.id })
                .from(dispositions)
                .where(named(organizationId, dispositions, config.dispositionId)),
            ]
          : []),
        ...(idempotencyKey === undefined
          ? []
          : [
              db
                .select()
                .from(imports)
                .where(
                  and(eq(imports.organizationId, organizationId), eq(imports.idempotencyKey, idempotencyKey)),
                ),
            ]),
      ];
      // One batch is one transaction: the claim, last, sees exactly what the reads saw.
      const results = (await db.batch([
        ...reads,
        ...(claim ? [claimStatement(db, lookUp, claim)] : []),
      ] as unknown as Parameters<Db["batch"]>[0])) as unknown as Record<string, unknown>[][];
      // The answers in the order the statements were put in.
      let at = 0;
      const next = () => results[at++] ?? [];
      const campaignRow = next()[0] as typeof campaigns.$inferSelect | undefined;
      const agentFound = config ? next().length > 0 : false;
      const dispositionFound = config ? next().length > 0 : false;
      const earlier = idempotencyKey === undefined ? undefined : (next()[0] as Import | undefined);
      const claimed = claim ? (next()[0] as { campaignPk: number } | undefined) : undefined;
      return {
        campaign: campaignRow ? toCampaign(campaignRow) : undefined,
        agentFound,
        dispositionFound,
        earlier,
        claimedFor: claimed?.campaignPk,
      };
    },

    async release(id) {
      await db
        .delete(imports)
        .where(and(eq(imports.id, id), eq(imports.attempt, 1), eq(imports.state, "processing")));
    },

    async findByIdempotencyKey(organizationId, key) {
      return db
        .select()
        .from(imports)
        .where(and(eq(imports.organizationId, organizationId), eq(imports.idempotencyKey, key)))
        .get();
    },

    async find(organizationId, id) {
      return db
        .select()
        .from(imports)
        .where(and(eq(imports.organizationId, organizationId), eq(imports.id, id)))
        .get();
    },

    async findById(id) {
      return db.select().from(imports).where(eq(imports.id, id)).get();
    },

    async setDialingState(id, from, to, at) {
      const rows = await db
        .update(imports)
        .set({
          dialingState: to,
          pausedAt: to === "paused" ? sql`coalesce(${imports.pausedAt}, ${at})` : null,
        })
        .where(and(eq(imports.id, id), inArray(imports.dialingState, [...from])))
        .returning();
      return rows[0];
    },

    async claimForRetry(id, at, leaseExpiresAt) {
      const rows = await db
        .update(imports)
        .set({
          state: "processing",
          startedAt: at,
          attempt: sql`${imports.attempt} + 1`,
          leaseExpiresAt,
          completedAt: null,
        })
        .where(
          and(
            eq(imports.id, id),
            or(eq(imports.state, "failed"), and(eq(imports.state, "processing"), lte(leaseEnd, at))),
          ),
        )
        .returning({ attempt: imports.attempt });
      return rows[0]?.attempt;
    },

    async markFailed(id, attempt, at, counts) {
      await db
        .update(imports)
        .set({ ...(counts ?? countsFromStored), state: "failed", leaseExpiresAt: null, completedAt: at })
        .where(and(eq(imports.id, id), eq(imports.state, "processing"), eq(imports.attempt, attempt)));
    },

    async resolveAbandoned(at, limit) {
      const rows = await db
        .update(imports)
        .set({ ...countsFromStored, state: "failed", leaseExpiresAt: null, completedAt: at })
        .where(
          sql`${imports.id} IN (SELECT id FROM imports WHERE state = 'processing' AND ${lte(leaseEnd, at)} LIMIT ${limit})`,
        )
        .returning({ id: imports.id });
      return rows.map((r) => r.id);
    },

    async complete(id, attempt, counts, response, completedAt, sends = []) {
      const [completed, organization] = await db.batch([
        ...completingStatements(db, { importId: id, attempt, counts, answer: response, completedAt }),
        ...sends.map((record) => recordSendStatement(db, id, record, completedAt)),
      ]);
      return { completed: completed.length > 0, notifies: organization[0]?.notifies === 1 };
    },

    async replaceAnswer(id, attempt, response, completedAt, sends) {
      const [first, ...rest] = answerStatements(db, id, attempt, response.body, completedAt);
      await db.batch([
        first,
        ...rest,
        ...sends.map((record) => recordSendStatement(db, id, record, completedAt)),
      ]);
    },

    async withStoredAnswers(campaignPk) {
      const rows = await db
        .selectDistinct({ id: importResponses.importId })
        .from(importResponses)
        .innerJoin(imports, eq(imports.id, importResponses.importId))
        .where(eq(imports.campaignPk, campaignPk));
      return rows.map((r) => r.id);
    },

    async dropStoredAnswersOfCampaign(campaignPk) {
      await db.run(sql`DELETE FROM import_responses
        WHERE import_id IN (SELECT id FROM imports WHERE campaign_pk = ${campaignPk})`);
    },

    async sendsUnrecorded(id) {
      const [row] = await db.all<{ unrecorded: number }>(sql`SELECT EXISTS (SELECT 1 FROM ${outboxBatches}
        WHERE import_id = ${id} AND state = 'pending' AND send_attempts = 0) AS unrecorded`);
      return row?.unrecorded === 1;
    },

    async storedResponse(id) {
      const parts = await db
        .select({ data: importResponses.data })
        .from(importResponses)
        .where(eq(importResponses.importId, id))
        .orderBy(asc(importResponses.part));
      return parts.length > 0 ? parts.map((p) => p.data).join("") : undefined;
    },

    // Their imports stay readable; only the key and its stored answer go.
    async expireIdempotencyKeys(before) {
      const rows = await db
        .update(imports)
        .set({ idempotencyKey: null })
        // An attempt still running keeps its key until it ends.
        .where(
          and(
            isNotNull(imports.idempotencyKey),
            lt(imports.createdAt, before),
            ne(imports.state, "processing"),
          ),
        )
        .returning({ id: imports.id });
      if (rows.length > 0) {
        await db.delete(importResponses).where(
          inList(
            importResponses.importId,
            rows.map((r) => r.id),
          ),
        );
      }
      return rows.length;
    },
  };
}
