import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createWorker } from "../src/index";
import { call, loanRecord, newTenant } from "./helpers";

const BULK = "/api/v1/customers/add/bulk";

async function storedCustomers(orgId: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT count(*) AS n FROM customers c JOIN campaigns p ON p.pk = c.campaign_pk WHERE p.organization_id = ?",
  )
    .bind(orgId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function storedImports(orgId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM imports WHERE organization_id = ?")
    .bind(orgId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

function expectEnvelopeError(r: { json: any }, code: string) {
  expect(r.json).toEqual({
    success: false,
    message: expect.any(String),
    error: { code, details: expect.any(Array) },
  });
}

describe("envelope errors: nothing is stored", () => {
  const callConfig = { agentId: "agent-1", dispositionId: "disp-1" };
  const cases: [string, unknown, number, string, string?][] = [
    ["campaignId missing", { records: [loanRecord(1)] }, 400, "validation_error", "campaignId"],
    [
      "campaignId not a string",
      { campaignId: 7, records: [loanRecord(1)] },
      400,
      "validation_error",
      "campaignId",
    ],
    ["records missing", { campaignId: "emi" }, 400, "validation_error", "records"],
    ["records not an array", { campaignId: "emi", records: {} }, 400, "validation_error", "records"],
    ["records empty", { campaignId: "emi", records: [] }, 400, "validation_error", "records"],
    [
      "initiateCall not a boolean",
      { campaignId: "emi", records: [loanRecord(1)], initiateCall: "yes" },
      400,
      "validation_error",
      "initiateCall",
    ],
    [
      "initiateCall and useWorkflow both true",
      { campaignId: "emi", records: [loanRecord(1)], initiateCall: true, useWorkflow: true, callConfig },
      400,
      "validation_error",
      "useWorkflow",
    ],
    [
      "initiateCall without callConfig",
      { campaignId: "emi", records: [loanRecord(1)], initiateCall: true },
      400,
      "validation_error",
      "callConfig",
    ],
    [
      "callConfig without dispositionId",
      { campaignId: "emi", records: [loanRecord(1)], initiateCall: true, callConfig: { agentId: "agent-1" } },
      400,
      "validation_error",
      "callConfig.dispositionId",
    ],
    ["body is an array", [loanRecord(1)], 400, "validation_error"],
    [
      "unknown campaign",
      { campaignId: "nope", records: [loanRecord(1)] },
      404,
      "campaign_not_found",
      "campaignId",
    ],
    [
      "unknown agent",
      {
        campaignId: "emi",
        records: [loanRecord(1)],
        initiateCall: true,
        callConfig: { ...callConfig, agentId: "x" },
      },
      400,
      "unknown_agent",
      "callConfig.agentId",
    ],
    [
      "unknown disposition",
      {
        campaignId: "emi",
        records: [loanRecord(1)],
        initiateCall: true,
        callConfig: { ...callConfig, dispositionId: "x" },
      },
      400,
      "unknown_disposition",
      "callConfig.dispositionId",
    ],
  ];

  for (const [name, body, status, code, path] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const t = await newTenant();
      const r = await call("POST", BULK, body, t.auth);
      expect(r.status).toBe(status);
      expectEnvelopeError(r, code);
      if (path) expect(r.json.error.details.map((d: any) => d.path)).toContain(path);
      expect(await storedCustomers(t.orgId)).toBe(0);
      expect(await storedImports(t.orgId)).toBe(0);
    });
  }

  it("a JSON body that is not an object → 400 validation_error naming the body", async () => {
    const t = await newTenant();
    for (const body of ["null", "[]", "42"]) {
      const r = await call("POST", BULK, body, t.auth);
      expect(r.status, body).toBe(400);
      expectEnvelopeError(r, "validation_error");
      expect(r.json.error.details[0].path).toBe("body");
    }
    expect(await storedImports(t.orgId)).toBe(0);
  });

  it("a body that is not JSON → 400 invalid_json", async () => {
    const t = await newTenant();
    const r = await call("POST", BULK, '{"campaignId": "emi", "records": [', t.auth);
    expect(r.status).toBe(400);
    expectEnvelopeError(r, "invalid_json");
  });

  it("a body that is not UTF-8 → 400 invalid_json naming the byte offset, nothing stored", async () => {
    const t = await newTenant();
    // "José" as a Windows-1252 export writes it: é is the single byte 0xE9.
    const bytes = new TextEncoder().encode(
      JSON.stringify({ campaignId: "emi", records: [loanRecord(1, { first_name: "JosX" })] }),
    );
    const offset = new TextDecoder().decode(bytes).indexOf("JosX") + 3;
    bytes[offset] = 0xe9;
    const res = await (exports as unknown as { default: Fetcher }).default.fetch(
      new Request(`http://bulkcall.test${BULK}`, {
        method: "POST",
        headers: { ...t.auth, "Content-Type": "application/json" },
        body: bytes,
      }),
    );
    const json = (await res.json()) as any;
    expect(res.status).toBe(400);
    expect(json.error.code).toBe("invalid_json");
    expect(json.message).toContain(`byte 0xE9 at offset ${offset}`);
    expect(json.error.details).toEqual([{ path: "body", message: `invalid UTF-8 at byte offset ${offset}` }]);
    expect(await storedCustomers(t.orgId)).toBe(0);
    expect(await storedImports(t.orgId)).toBe(0);
  });

  it("a charset other than UTF-8 → 415; UTF-8 however written is accepted", async () => {
    const t = await newTenant();
    const body = { campaignId: "emi", records: [loanRecord(1)] };
    const latin = await call("POST", BULK, body, {
      ...t.auth,
      "Content-Type": "application/json; charset=windows-1252",
    });
    expect(latin.status).toBe(415);
    expect(latin.json.message).toContain("charset=windows-1252");
    expect(await storedCustomers(t.orgId)).toBe(0);
    for (const [i, type] of [
      "application/json; charset=utf-8",
      'application/json;charset="UTF-8"',
      "application/json; charset=utf8",
    ].entries()) {
      const ok = await call(
        "POST",
        BULK,
        { campaignId: "emi", records: [loanRecord(10 + i)] },
        { ...t.auth, "Content-Type": type },
      );
      expect(ok.status, type).toBe(201);
    }
  });

  it("a content type that is not JSON → 415", async () => {
    const t = await newTenant();
    const r = await call("POST", BULK, "campaignId=emi", { ...t.auth, "Content-Type": "text/plain" });
    expect(r.status).toBe(415);
    expectEnvelopeError(r, "unsupported_media_type");
  });

  it("a body over the limit → 413, and nothing is stored", async () => {
    const t = await newTenant();
    const limit = Number(env.MAX_BODY_BYTES);
    const padding = "x".repeat(limit);
    const r = await call(
      "POST",
      BULK,
      `{"campaignId":"emi","records":[${JSON.stringify(loanRecord(1, { note: padding }))}]}`,
      t.auth,
    );
    expect(r.status).toBe(413);
    expectEnvelopeError(r, "payload_too_large");
    expect(await storedCustomers(t.orgId)).toBe(0);
  });

  it("10,001 records → 400 too_many_records and nothing is written", async () => {
    const t = await newTenant();
    const records = Array.from({ length: 10_001 }, (_, i) => loanRecord(i));
    const r = await call("POST", BULK, { campaignId: "emi", records }, t.auth);
    expect(r.status).toBe(400);
    expectEnvelopeError(r, "too_many_records");
    expect(await storedCustomers(t.orgId)).toBe(0);
    expect(await storedImports(t.orgId)).toBe(0);
  });

  it("an Idempotency-Key longer than 255 characters → 400", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      BULK,
      { campaignId: "emi", records: [loanRecord(1)] },
      {
        ...t.auth,
        "Idempotency-Key": "k".repeat(256),
      },
    );
    expect(r.status).toBe(400);
    expectEnvelopeError(r, "validation_error");
    // Named as the request and the other Idempotency-Key errors spell it.
    expect(r.json.error.details.map((d: { path: string }) => d.path)).toEqual(["Idempotency-Key"]);
    expect(await storedCustomers(t.orgId)).toBe(0);
  });
});

describe("a failing chunk", () => {
  it("is rolled back whole, reported storage_error, and the other chunks land (207)", async () => {
    const t = await newTenant();
    // A real storage failure inside D1: this trigger aborts the statement that writes the marked
    // record, so the whole chunk holding it (records 1000-1999) must be rolled back.
    await env.DB.exec(
      "CREATE TRIGGER IF NOT EXISTS fail_marked_chunk BEFORE INSERT ON customers WHEN NEW.loan_id = 'FAIL-CHUNK' BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END",
    );
    try {
      const records = Array.from({ length: 2_500 }, (_, i) => loanRecord(i));
      records[1_500] = loanRecord(1_500, { loan_id: "FAIL-CHUNK" });
      const r = await call("POST", BULK, { campaignId: "emi", records }, t.auth);
      expect(r.status).toBe(207);
      expect(r.json.results).toMatchObject({
        total: 2_500,
        valid: 2_500,
        invalid: 0,
        successful: 1_500,
        failed: 1_000,
        batchesProcessed: 3,
      });
      const failedIndexes = r.json.results.errors.map((e: any) => e.index);
      expect(failedIndexes).toEqual(Array.from({ length: 1_000 }, (_, i) => 1_000 + i));
      expect(new Set(r.json.results.errors.map((e: any) => e.code))).toEqual(new Set(["storage_error"]));

      const { results } = await env.DB.prepare(
        "SELECT c.loan_id FROM customers c JOIN campaigns p ON p.pk = c.campaign_pk WHERE p.organization_id = ? ORDER BY c.loan_id",
      )
        .bind(t.orgId)
        .all<{ loan_id: string }>();
      expect(results).toHaveLength(1_500);
      const stored = new Set(results.map((row) => row.loan_id));
      for (let i = 1_000; i < 2_000; i++) expect(stored.has(loanRecord(i).loan_id)).toBe(false);
      expect(stored.has(loanRecord(999).loan_id)).toBe(true);
      expect(stored.has(loanRecord(2_000).loan_id)).toBe(true);
    } finally {
      await env.DB.exec("DROP TRIGGER IF EXISTS fail_marked_chunk");
    }
  });
});

describe("request body limits without a declared length", () => {
  it("a chunked body over the limit → 413 without reading it all", async () => {
    const t = await newTenant();
    const limit = Number(env.MAX_BODY_BYTES);
    const chunk = new TextEncoder().encode(" ".repeat(1 << 20));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"campaignId":"emi","records":['));
        sent += chunk.byteLength;
        controller.enqueue(chunk);
        if (sent > limit * 2) controller.close();
      },
    });
    const res = await (exports as unknown as { default: Fetcher }).default.fetch(
      new Request("http://bulkcall.test/api/v1/customers/add/bulk", {
        method: "POST",
        headers: { ...t.auth, "Content-Type": "application/json" },
        body,
        // @ts-expect-error: streaming request bodies need the half-duplex option in fetch's types
        duplex: "half",
      }),
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe("payload_too_large");
    // Reading stopped at the limit: far less than the whole stream was pulled.
    expect(sent).toBeLessThan(limit * 2);
  });

  it("a client that stops sending half-way gets a 400 request_incomplete, logged as such, and nothing is stored", async () => {
    const t = await newTenant();
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        if (pulls === 1) controller.enqueue(new TextEncoder().encode('{"campaignId":"emi","records":['));
        else controller.error(new Error("connection reset by peer"));
      },
    });
    // Called in this isolate, the stream's error reaches the reader as a dropped connection does;
    // across a service binding it would arrive as a clean (truncated) end.
    const logged: string[] = [];
    const spies = (["log", "warn", "error"] as const).map((level) => {
      const original = console[level];
      console[level] = (line: unknown) => {
        logged.push(String(line));
      };
      return () => {
        console[level] = original;
      };
    });
    let res: Response;
    try {
      res = await createWorker().fetch(
        new Request(`http://bulkcall.test${BULK}`, {
          method: "POST",
          headers: { ...t.auth, "Content-Type": "application/json", "Content-Length": "100000" },
          body,
          // @ts-expect-error: streaming request bodies need the half-duplex option in fetch's types
          duplex: "half",
        }),
        env,
        createExecutionContext(),
      );
    } finally {
      for (const restore of spies) restore();
    }
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("request_incomplete");
    expect(logged.some((l) => l.includes('"event":"request_body_incomplete"'))).toBe(true);
    expect(logged.some((l) => l.includes("unhandled_error"))).toBe(false);
    expect(await storedImports(t.orgId)).toBe(0);
  });

  it("envelope ids longer than any id the API issues are refused as validation errors", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "c".repeat(100_000), records: [loanRecord(1)] },
      t.auth,
    );
    expect(r.status).toBe(400);
    expect(r.json.error.details[0].path).toBe("campaignId");
    expect(r.text.length).toBeLessThan(2_000);
  });
});
