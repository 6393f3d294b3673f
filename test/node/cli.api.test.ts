// The importer's HTTP client against loopback stub servers: which answers it retries (always under
// the same Idempotency-Key), which it stops on, and what it says.
import { afterEach, describe, expect, it } from "vitest";
import { ApiClient, ApiError, retryAfterMs } from "../../clients/sheet/api-client";
import { json, startStub, type TestServer } from "./cli-helpers";

const FAST = { baseDelayMs: 1, maxDelayMs: 5, inFlightDelayMs: 1, inFlightBudgetMs: 5_000, attempts: 3 };
const BODY = JSON.stringify({ campaignId: "c", records: [{ loan_id: "LN-1" }] });
const ANSWER = {
  success: true,
  message: "Added 1 of 1 records",
  results: { total: 1, valid: 1, invalid: 0, successful: 1, failed: 0, batchesProcessed: 1, errors: [] },
  importId: "imp_1",
};
const errorBody = (code: string, message: string) => ({
  success: false,
  message,
  error: { code, details: [] },
});

let stub: TestServer | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

function client(url: string, notes: string[] = []) {
  return new ApiClient({ baseUrl: url, apiKey: "k", retry: FAST, onRetry: (m) => notes.push(m) });
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("no ApiError");
}

describe("bulk requests", () => {
  it("waits while the same key is in flight (409), honouring Retry-After, then takes the answer", async () => {
    stub = await startStub((_req, res, n) => {
      if (n === 1)
        return json(res, 409, errorBody("idempotency_request_in_flight", "still running"), {
          "Retry-After": "0",
        });
      if (n === 2) return json(res, 409, errorBody("idempotency_request_in_flight", "still running"));
      json(res, 201, ANSWER, { "Idempotent-Replayed": "true" });
    });
    const notes: string[] = [];
    const result = await client(stub.url, notes).addBulk(BODY, "key-1", "part 1/1");
    expect(result).toEqual({ status: 201, replayed: true, answer: ANSWER });
    expect(stub.requests.map((r) => r.headers["idempotency-key"])).toEqual(["key-1", "key-1", "key-1"]);
    expect(stub.requests.every((r) => r.body === BODY && r.headers.authorization === "Bearer k")).toBe(true);
    expect(notes[0]).toContain("an earlier attempt of this part is still running on the server (409)");
  });

  it("retries a lost connection and a 503 with the same key and body", async () => {
    stub = await startStub((_req, res, n) => {
      if (n === 1) return void res.socket?.destroy();
      if (n === 2) return json(res, 503, errorBody("service_unavailable", "db down"), { "Retry-After": "0" });
      json(res, 207, { ...ANSWER, success: false });
    });
    const result = await client(stub.url).addBulk(BODY, "key-2", "part 1/1");
    expect(result.status).toBe(207);
    expect(stub.requests.map((r) => [r.headers["idempotency-key"], r.body])).toEqual([
      ["key-2", BODY],
      ["key-2", BODY],
      ["key-2", BODY],
    ]);
  });

  it("gives up after the last attempt, saying the part may be partly stored", async () => {
    stub = await startStub((_req, res) => json(res, 500, errorBody("internal_error", "boom")));
    const error = await refusal(client(stub.url).addBulk(BODY, "key-3", "part 2/3"));
    expect(error.message).toBe("part 2/3: 500 internal_error: boom.");
    expect(error.maybeStored).toBe(true);
    expect(stub.requests).toHaveLength(3);
  });

  it("stops at once on 401, 404, 413 and 422, saying what to check", async () => {
    const cases: [number, object, string][] = [
      [401, errorBody("unauthorized", "Missing or invalid API key."), "The API key was refused"],
      [404, errorBody("campaign_not_found", 'Campaign "x" does not exist.'), "check --campaign"],
      [413, errorBody("payload_too_large", "too big"), "lower --max-body-mb"],
      [
        422,
        errorBody("idempotency_key_reused", "different body"),
        "a different request under this part's Idempotency-Key",
      ],
    ];
    for (const [status, body, hint] of cases) {
      stub = await startStub((_req, res) => json(res, status, body));
      const error = await refusal(client(stub.url).addBulk(BODY, "k", "part 1/1"));
      expect(error.status).toBe(status);
      expect(error.message).toContain(`${status} `);
      expect(error.message).toContain(hint);
      expect(error.maybeStored).toBe(false);
      expect(stub.requests).toHaveLength(1);
      await stub.close();
      stub = undefined;
    }
  });

  it("takes a 400 that carries results (no record added) as an answer, and an envelope 400 as a refusal", async () => {
    const none = { ...ANSWER, success: false, results: { ...ANSWER.results, successful: 0, failed: 1 } };
    stub = await startStub((_req, res, n) =>
      n === 1
        ? json(res, 400, none)
        : json(res, 400, {
            success: false,
            message: "The request is not valid.",
            error: {
              code: "unknown_agent",
              details: [{ path: "callConfig.agentId", message: "no agent with this id" }],
            },
          }),
    );
    expect((await client(stub.url).addBulk(BODY, "k", "part 1/1")).answer).toEqual(none);
    const error = await refusal(client(stub.url).addBulk(BODY, "k", "part 1/1"));
    expect(error.message).toBe(
      "part 1/1: 400 unknown_agent: The request is not valid. (callConfig.agentId: no agent with this id).",
    );
  });

  it("says what to pass when calls were asked for without an agent and the campaign has no defaults", async () => {
    const details = [{ path: "callConfig", message: "is required when initiateCall is true and …" }];
    stub = await startStub((_req, res) =>
      json(res, 400, {
        success: false,
        message: "The request is not valid.",
        error: { code: "validation_error", details },
      }),
    );
    const error = await refusal(client(stub.url).addBulk(BODY, "k", "part 1/1"));
    expect(error.message).toBe(
      "part 1/1: 400 validation_error: The request is not valid. (callConfig: is required when initiateCall is true and …). The campaign has no default agent and disposition: pass --agent <id> and --disposition <id>, or give the campaign a default agentId and dispositionId (PATCH /api/v1/campaigns/{id}).",
    );
    expect(error.maybeStored).toBe(false);
    // Another envelope 400 gets no such hint.
    await stub.close();
    stub = await startStub((_req, res) =>
      json(res, 400, {
        success: false,
        message: "The request is not valid.",
        error: { code: "validation_error", details: [{ path: "useWorkflow", message: "cannot be true …" }] },
      }),
    );
    const other = await refusal(client(stub.url).addBulk(BODY, "k", "part 1/1"));
    expect(other.message).toBe(
      "part 1/1: 400 validation_error: The request is not valid. (useWorkflow: cannot be true …).",
    );
  });
});

describe("set-up requests", () => {
  it("reads the campaign's type and which bulk fields the API documents", async () => {
    stub = await startStub((req, res) => {
      if (req.path === "/api/v1/campaigns/demo%20lead")
        return json(res, 200, { id: "demo lead", campaignType: "lead" });
      if (req.path === "/openapi.json") {
        return json(res, 200, {
          components: { schemas: { BulkAddCustomersRequest: { properties: { dryRun: {} } } } },
        });
      }
      json(res, 404, errorBody("campaign_not_found", "no"));
    });
    const api = client(stub.url);
    expect(await api.campaignType("demo lead")).toBe("lead");
    expect(await api.bulkRequestHasField("dryRun")).toBe(true);
    expect(await api.bulkRequestHasField("onExisting")).toBe(false);
    expect((await refusal(api.campaignType("nope"))).message).toContain("check --campaign");
  });

  it("says when nothing listens at --url", async () => {
    stub = await startStub((_req, res) => json(res, 200, {}));
    const url = stub.url;
    await stub.close();
    stub = undefined;
    const error = await refusal(client(url).campaignType("c"));
    expect(error.message).toContain(`Cannot reach the API at ${url} (ECONNREFUSED)`);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-30T10:00:00Z");
    const at = (value: string) => new Response(null, { headers: { "Retry-After": value } });
    expect(retryAfterMs(at("30"), now)).toBe(30_000);
    expect(retryAfterMs(at("Mon, 30 Nov 2026 10:00:05 GMT"), now)).toBe(5_000);
    expect(retryAfterMs(new Response(null), now)).toBeUndefined();
  });
});
