// The Worker the benchmark runs: the production Worker, untouched, plus three comparison endpoints
// under /__bench/ that store the same rows the ways other D1 applications do, a simulated distance
// to D1 (X-Bench-D1-Rtt-Ms), and a meter on the queue consumers' D1 calls. Only
// bench/vitest.config.ts points at this file and nothing in src/ imports it, so none of it ships in
// the production bundle. The comparison endpoints skip auth and campaign look-up (the campaign's
// row id comes in the URL): they are given every advantage the real endpoint does not have.
import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import { customers } from "../src/db/schema";
import { KNOWN_FIELDS } from "../src/domain/records/record-rules";
import type { AppEnv } from "../src/env";
import worker from "../src/index";
import { type D1Meter, meterD1 } from "../test/d1-meter";
import { withD1Latency } from "./d1-latency";

export { CustomerWorkflow } from "../src/index";

/** Header naming the delay (ms) every D1 call of the request gets: the round trip to a far primary. */
export const RTT_HEADER = "X-Bench-D1-Rtt-Ms";

const KNOWN: ReadonlySet<string> = new Set(KNOWN_FIELDS);
const D1_MAX_BOUND_PARAMETERS = 100;

// `floor`: the cost of storage alone. One statement expands the request's records with json_each
// and writes every column the real endpoint writes, extra keys included (json_remove leaves exactly
// them), with no validation, normalization, duplicate report, import record or hand-off.
const FLOOR_SQL = `INSERT INTO customers (campaign_pk, dedupe_key, loan_id, lead_id, first_name, last_name,
    phone_number, loan_amount, emi_amount, loan_period, current_emi, emi_due_date, payment_status, language,
    lead_date, variables, import_id, created_at)
  SELECT ?1, value->>'loan_id', value->>'loan_id', value->>'lead_id', value->>'first_name', value->>'last_name',
    value->>'phone_number', value->>'loan_amount', value->>'emi_amount', value->>'loan_period',
    value->>'current_emi', value->>'emi_due_date', value->>'payment_status', value->>'language',
    value->>'lead_date', json_remove(value, ${KNOWN_FIELDS.map((f) => `'$.${f}'`).join(", ")}), ?2, ?3
  FROM json_each(?4, '$.records') WHERE true
  ON CONFLICT (campaign_pk, dedupe_key) DO NOTHING`;

async function floor(request: Request, env: AppEnv, campaignPk: number): Promise<Response> {
  const text = await request.text();
  const body = JSON.parse(text) as { records: unknown[] };
  const result = await env.DB.prepare(FLOOR_SQL).bind(campaignPk, "bench-floor", Date.now(), text).run();
  return Response.json({ received: body.records.length, inserted: result.meta.changes }, { status: 201 });
}

// `naive`: what most D1 applications do — validate the whole array with a zod schema of the
// documented fields (no phone normalization), then drizzle insert().values() in chunks that fit
// D1's 100 bound parameters, all chunks in one batch().
const NaiveRecord = z
  .object({
    loan_id: z.string().trim().min(1).max(128),
    lead_id: z.string().trim().max(128).optional(),
    first_name: z.string().trim().min(1).max(100),
    last_name: z.string().trim().max(100).optional(),
    phone_number: z.union([z.string().min(1), z.number()]),
    loan_amount: z.number().min(0).optional(),
    emi_amount: z.number().min(0),
    loan_period: z.number().int().min(1).optional(),
    current_emi: z.number().int().min(1).optional(),
    emi_due_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    payment_status: z.enum(["bounced", "pending", "partial", "paid", "received"]).optional(),
    language: z.string().optional(),
    lead_date: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional(),
  })
  .catchall(z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]));
const NaiveBody = z.object({ campaignId: z.string(), records: z.array(NaiveRecord).min(1).max(10_000) });
type NaiveRecordT = z.infer<typeof NaiveRecord>;

function toRow(r: NaiveRecordT, campaignPk: number, importId: string, createdAt: number) {
  let variables: Record<string, unknown> | undefined;
  for (const key of Object.keys(r)) {
    if (KNOWN.has(key)) continue;
    variables ??= {};
    variables[key] = r[key];
  }
  return {
    campaignPk,
    dedupeKey: r.loan_id,
    loanId: r.loan_id,
    leadId: r.lead_id ?? null,
    firstName: r.first_name,
    lastName: r.last_name ?? null,
    phoneNumber: String(r.phone_number),
    loanAmount: r.loan_amount ?? null,
    emiAmount: r.emi_amount,
    loanPeriod: r.loan_period ?? null,
    currentEmi: r.current_emi ?? null,
    emiDueDate: r.emi_due_date,
    paymentStatus: r.payment_status ?? null,
    language: r.language ?? null,
    leadDate: r.lead_date ?? null,
    variables: variables ? JSON.stringify(variables) : null,
    importId,
    createdAt,
  };
}

async function naive(request: Request, env: AppEnv, campaignPk: number): Promise<Response> {
  const parsed = NaiveBody.safeParse(await request.json());
  if (!parsed.success) return Response.json({ error: parsed.error.issues.slice(0, 5) }, { status: 400 });
  const createdAt = Date.now();
  const rows = parsed.data.records.map((r) => toRow(r, campaignPk, "bench-naive", createdAt));
  const db = drizzle(env.DB);
  const parametersPerRow = db.insert(customers).values(rows.slice(0, 1)).toSQL().params.length;
  const rowsPerStatement = Math.max(1, Math.floor(D1_MAX_BOUND_PARAMETERS / parametersPerRow));
  const statements = [];
  for (let i = 0; i < rows.length; i += rowsPerStatement) {
    statements.push(db.insert(customers).values(rows.slice(i, i + rowsPerStatement)));
  }
  await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
  return Response.json({ inserted: rows.length, statements: statements.length }, { status: 201 });
}

// `row_by_row`: the ORM-loop habit — one insert statement per record, all in one batch(). It
// validates nothing, so it measures the statement shape alone.
async function rowByRow(request: Request, env: AppEnv, campaignPk: number): Promise<Response> {
  const body = (await request.json()) as { records: NaiveRecordT[] };
  const createdAt = Date.now();
  const db = drizzle(env.DB);
  const statements = body.records.map((r) =>
    db.insert(customers).values(toRow(r, campaignPk, "bench-row-by-row", createdAt)),
  );
  await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
  return Response.json({ inserted: statements.length }, { status: 201 });
}

const CASES: Record<string, (request: Request, env: AppEnv, campaignPk: number) => Promise<Response>> = {
  "/__bench/floor": floor,
  "/__bench/naive": naive,
  "/__bench/row_by_row": rowByRow,
};

// Every D1 call the queue consumers make, across all their invocations (they run side by side, so
// only calls and statements add up; waves across invocations mean nothing). Read and reset through
// GET /__bench/queue-meter[?reset=1] by the fan-out benchmark.
let queueMeter: D1Meter | undefined;

function queueMeterFor(env: AppEnv): D1Meter {
  queueMeter ??= meterD1(env.DB);
  return queueMeter;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/queue-meter") {
      const meter = queueMeterFor(env);
      const counts = meter.counts();
      if (url.searchParams.has("reset")) meter.reset();
      return Response.json(counts);
    }
    const rtt = request.headers.get(RTT_HEADER);
    const bindings = rtt === null ? env : { ...env, DB: withD1Latency(env.DB, Number(rtt)) };
    const handler = CASES[url.pathname];
    if (handler) return handler(request, bindings, Number(url.searchParams.get("campaignPk")));
    return worker.fetch(request, bindings, ctx);
  },
  async queue(batch, env) {
    await worker.queue(batch, { ...env, DB: queueMeterFor(env).wrap(env.DB) });
  },
} satisfies ExportedHandler<AppEnv>;
