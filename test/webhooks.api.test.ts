// /api/v1/webhooks: registering, reading, rotating and deleting webhooks; what is refused, and that
// one organization can never see or touch another's.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_WEBHOOKS_PER_ORGANIZATION } from "../src/domain/webhooks/manage-webhooks";
import { call, newTenant } from "./helpers";
import { ALL_EVENTS, RECEIVER } from "./webhooks-fixtures";

const create = (auth: Record<string, string>, body: unknown) => call("POST", "/api/v1/webhooks", body, auth);

async function listAll(auth: Record<string, string>) {
  const r = await call("GET", "/api/v1/webhooks?limit=500", undefined, auth);
  expect(r.status).toBe(200);
  return r.json.data as any[];
}

function base64Bytes(secret: string): number {
  return atob(secret.replace(/^whsec_/, "")).length;
}

describe("POST /api/v1/webhooks", () => {
  it("registers a webhook and shows its Standard Webhooks secret once", async () => {
    const t = await newTenant();
    const r = await create(t.auth, {
      url: "https://lender.example/hooks/bulkcall",
      events: ["call.completed", "call.failed", "call.completed"],
      description: "  Collections system  ",
    });
    expect(r.status, r.text).toBe(201);
    expect(r.json).toEqual({
      id: expect.stringMatching(/^wh_[0-9a-f]{24}$/),
      url: "https://lender.example/hooks/bulkcall",
      events: ["call.completed", "call.failed"],
      description: "Collections system",
      createdAt: expect.any(String),
      secretRotatedAt: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+={0,2}$/),
    });
    expect(base64Bytes(r.json.secret)).toBe(32);

    const { secret, ...shown } = r.json;
    const read = await call("GET", `/api/v1/webhooks/${r.json.id}`, undefined, t.auth);
    expect(read.status).toBe(200);
    expect(read.json).toEqual(shown);
    expect(read.text).not.toContain(secret);
    expect(await listAll(t.auth)).toEqual([shown]);
  });

  it("accepts an empty event list: such a webhook receives only what workflow steps send it", async () => {
    const t = await newTenant();
    const r = await create(t.auth, { url: "https://lender.example/steps", events: [] });
    expect(r.status, r.text).toBe(201);
    expect(r.json.events).toEqual([]);
  });

  it("accepts plain http only for loopback hosts (local development)", async () => {
    const t = await newTenant();
    for (const url of [
      "http://localhost:9000/hooks",
      "http://127.0.0.1:9000/hooks",
      "http://[::1]:9000/hooks",
      "http://receiver.localhost/hooks",
      RECEIVER,
    ]) {
      const r = await create(t.auth, { url, events: ["call.failed"] });
      expect(r.status, `${url}: ${r.text}`).toBe(201);
    }
  });

  it("refuses bad URLs and unknown events with 400 naming the field, and stores nothing", async () => {
    const t = await newTenant();
    const cases: [unknown, string, RegExp][] = [
      [{ url: "http://lender.example/hooks", events: ["call.failed"] }, "url", /must use https/],
      [{ url: "http://10.0.0.5/hooks", events: ["call.failed"] }, "url", /must use https/],
      [
        { url: "https://user:pass@lender.example/hooks", events: ["call.failed"] },
        "url",
        /user name or password/,
      ],
      [
        { url: "https://token@lender.example/hooks", events: ["call.failed"] },
        "url",
        /user name or password/,
      ],
      [{ url: `https://lender.example/${"a".repeat(2048)}`, events: ["call.failed"] }, "url", /at most 2048/],
      [{ url: "not a url", events: ["call.failed"] }, "url", /absolute URL/],
      [{ url: "/hooks", events: ["call.failed"] }, "url", /absolute URL/],
      [{ url: "ftp://lender.example/hooks", events: ["call.failed"] }, "url", /https URL/],
      [{ url: 42, events: ["call.failed"] }, "url", /string/],
      [{ events: ["call.failed"] }, "url", /./],
      [{ url: "https://lender.example/hooks", events: ["call.answered"] }, "events.0", /call\.completed/],
      [{ url: "https://lender.example/hooks", events: ["workflow.step"] }, "events.0", /./],
      [{ url: "https://lender.example/hooks", events: "call.failed" }, "events", /array/],
      [{ url: "https://lender.example/hooks" }, "events", /./],
      [
        { url: "https://lender.example/hooks", events: ["call.failed"], description: "x".repeat(501) },
        "description",
        /./,
      ],
    ];
    for (const [body, path, message] of cases) {
      const r = await create(t.auth, body);
      expect(r.status, JSON.stringify(body).slice(0, 120)).toBe(400);
      expect(r.json).toMatchObject({ success: false, error: { code: "validation_error" } });
      const detail = r.json.error.details.find((d: { path: string }) => d.path === path);
      expect(detail, `${path} in ${JSON.stringify(r.json.error.details)}`).toBeDefined();
      expect(detail.message).toMatch(message);
    }
    const notJson = await call("POST", "/api/v1/webhooks", "url=https://x", t.auth);
    expect(notJson.status).toBe(400);
    const notJsonType = await call("POST", "/api/v1/webhooks", "{}", {
      ...t.auth,
      "Content-Type": "text/plain",
    });
    expect(notJsonType.status).toBe(415);
    expect(await listAll(t.auth)).toEqual([]);
  });

  it(`keeps at most ${MAX_WEBHOOKS_PER_ORGANIZATION} webhooks per organization; a deleted one frees its place`, async () => {
    const t = await newTenant();
    const ids: string[] = [];
    for (let i = 0; i < MAX_WEBHOOKS_PER_ORGANIZATION; i++) {
      const r = await create(t.auth, { url: `https://lender.example/${i}`, events: ["call.failed"] });
      expect(r.status).toBe(201);
      ids.push(r.json.id);
    }
    const over = await create(t.auth, { url: "https://lender.example/over", events: ["call.failed"] });
    expect(over.status).toBe(409);
    expect(over.json.error.code).toBe("conflict");
    expect(await listAll(t.auth)).toHaveLength(MAX_WEBHOOKS_PER_ORGANIZATION);
    // Another organization has its own allowance.
    const u = await newTenant();
    expect((await create(u.auth, { url: "https://other.example/", events: ["call.failed"] })).status).toBe(
      201,
    );

    expect((await call("DELETE", `/api/v1/webhooks/${ids[0]}`, undefined, t.auth)).status).toBe(204);
    expect(
      (await create(t.auth, { url: "https://lender.example/again", events: ["call.failed"] })).status,
    ).toBe(201);
  });

  it("needs an API key", async () => {
    const r = await call("GET", "/api/v1/webhooks");
    expect(r.status).toBe(401);
    expect(r.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    const p = await create({}, { url: "https://lender.example/", events: ["call.failed"] });
    expect(p.status).toBe(401);
  });
});

describe("GET /api/v1/webhooks", () => {
  it("pages oldest first with a cursor", async () => {
    const t = await newTenant();
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      made.push((await create(t.auth, { url: `https://lender.example/${i}`, events: ALL_EVENTS })).json.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await call(
        "GET",
        `/api/v1/webhooks?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        undefined,
        t.auth,
      );
      expect(r.status).toBe(200);
      seen.push(...r.json.data.map((w: { id: string }) => w.id));
      cursor = r.json.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(made);
    expect(pages).toBe(3);
    const bad = await call("GET", "/api/v1/webhooks?cursor=nonsense", undefined, t.auth);
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].path).toBe("cursor");
  });
});

describe("DELETE /api/v1/webhooks/{id}", () => {
  it("removes the webhook: 404 afterwards, gone from the list, and its secret erased", async () => {
    const t = await newTenant();
    const keep = (await create(t.auth, { url: "https://lender.example/keep", events: ["call.failed"] })).json;
    const drop = (await create(t.auth, { url: "https://lender.example/drop", events: ["call.failed"] })).json;
    const r = await call("DELETE", `/api/v1/webhooks/${drop.id}`, undefined, t.auth);
    expect(r.status).toBe(204);
    expect(r.text).toBe("");
    expect((await call("GET", `/api/v1/webhooks/${drop.id}`, undefined, t.auth)).status).toBe(404);
    expect((await call("DELETE", `/api/v1/webhooks/${drop.id}`, undefined, t.auth)).status).toBe(404);
    expect((await listAll(t.auth)).map((w) => w.id)).toEqual([keep.id]);
    const row = await env.DB.prepare("SELECT secret, previous_secret, deleted_at FROM webhooks WHERE id = ?")
      .bind(drop.id)
      .first();
    expect(row).toMatchObject({ secret: null, previous_secret: null, deleted_at: expect.any(Number) });
  });
});

describe("POST /api/v1/webhooks/{id}/rotate-secret", () => {
  it("issues a new secret, shown once; the previous one keeps signing for a day", async () => {
    const t = await newTenant();
    const w = (await create(t.auth, { url: "https://lender.example/r", events: ["call.failed"] })).json;
    const before = Date.now();
    const r = await call("POST", `/api/v1/webhooks/${w.id}/rotate-secret`, undefined, t.auth);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({
      id: w.id,
      secret: expect.stringMatching(/^whsec_/),
      previousSecretExpiresAt: expect.any(String),
    });
    expect(r.json.secret).not.toBe(w.secret);
    expect(base64Bytes(r.json.secret)).toBe(32);
    const expires = Date.parse(r.json.previousSecretExpiresAt);
    expect(expires - before).toBeGreaterThanOrEqual(24 * 3600 * 1000 - 1000);
    expect(expires - before).toBeLessThanOrEqual(24 * 3600 * 1000 + 60_000);
    const read = await call("GET", `/api/v1/webhooks/${w.id}`, undefined, t.auth);
    expect(read.json.secretRotatedAt).toEqual(expect.any(String));
    expect(read.text).not.toContain(r.json.secret);
    const row = await env.DB.prepare("SELECT secret, previous_secret FROM webhooks WHERE id = ?")
      .bind(w.id)
      .first();
    expect(row).toEqual({ secret: r.json.secret, previous_secret: w.secret });
  });
});

describe("one organization never reaches another's webhooks", () => {
  it("answers 404 to every route and changes nothing", async () => {
    const owner = await newTenant();
    const intruder = await newTenant();
    const w = (await create(owner.auth, { url: "https://lender.example/private", events: ALL_EVENTS })).json;
    const { secret, ...shown } = w;
    const attempts = [
      call("GET", `/api/v1/webhooks/${w.id}`, undefined, intruder.auth),
      call("DELETE", `/api/v1/webhooks/${w.id}`, undefined, intruder.auth),
      call("POST", `/api/v1/webhooks/${w.id}/rotate-secret`, undefined, intruder.auth),
      call("GET", `/api/v1/webhooks/${w.id}/deliveries`, undefined, intruder.auth),
      call(
        "POST",
        `/api/v1/webhooks/${w.id}/deliveries/msg_000000000000000000000000/redeliver`,
        undefined,
        intruder.auth,
      ),
    ];
    for (const r of await Promise.all(attempts)) {
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe("not_found");
      expect(r.text).not.toContain("private");
    }
    expect(await listAll(intruder.auth)).toEqual([]);
    const still = await call("GET", `/api/v1/webhooks/${w.id}`, undefined, owner.auth);
    expect(still.json).toEqual(shown);
    const row = await env.DB.prepare("SELECT secret, deleted_at FROM webhooks WHERE id = ?")
      .bind(w.id)
      .first();
    expect(row).toEqual({ secret, deleted_at: null });
  });
});
