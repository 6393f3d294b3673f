// /api/v1/suppressions: the organization's do-not-call list.
import { describe, expect, it } from "vitest";
import { call, newTenant } from "./helpers";

describe("suppressions", () => {
  it("normalizes numbers like customer phones, stores the valid ones and reports each invalid one", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      "/api/v1/suppressions",
      {
        phone_numbers: ["9876543210", "+91 98765-43211", 919876543212, "12345", "09876543210", true],
        reason: "asked not to be called",
      },
      t.auth,
    );
    expect(r.status, r.text).toBe(207);
    expect(r.json).toEqual({
      success: false,
      message: "Suppressed 4 of 6 numbers",
      results: {
        total: 6,
        valid: 4,
        invalid: 2,
        added: 3,
        alreadySuppressed: 0,
        repeated: 1,
        errors: [
          { index: 3, phone_number: "12345", message: "phone_number is not a valid phone number" },
          { index: 5, phone_number: true, message: "phone_number must be a string or a whole number" },
        ],
      },
    });

    const list = await call("GET", "/api/v1/suppressions", undefined, t.auth);
    expect(list.json.data.map((s: any) => [s.phone_number, s.reason])).toEqual([
      ["+919876543210", "asked not to be called"],
      ["+919876543211", "asked not to be called"],
      ["+919876543212", "asked not to be called"],
    ]);

    const again = await call("POST", "/api/v1/suppressions", { phone_numbers: ["+919876543210"] }, t.auth);
    expect(again.status).toBe(201);
    expect(again.json.results).toMatchObject({ added: 0, alreadySuppressed: 1 });
  });

  it("reports a deeply nested entry without echoing it, and keeps the valid numbers (207, never a 500)", async () => {
    const t = await newTenant();
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const r = await call(
      "POST",
      "/api/v1/suppressions",
      `{"phone_numbers":["9876512345",${deep},"${"9".repeat(5_000)}"]}`,
      t.auth,
    );
    expect(r.status, r.text.slice(0, 200)).toBe(207);
    expect(r.json.results.errors).toEqual([
      {
        index: 1,
        phone_number: null,
        message: "phone_number must be a string or a whole number (got an array)",
      },
      { index: 2, phone_number: `${"9".repeat(64)}…`, message: expect.stringMatching(/^phone_number /) },
    ]);
    expect(r.text.length).toBeLessThan(1_000);
    const list = await call("GET", "/api/v1/suppressions", undefined, t.auth);
    expect(list.json.data.map((s: any) => s.phone_number)).toEqual(["+919876512345"]);
  });

  it("uses defaultCountry for numbers without a country code", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      "/api/v1/suppressions",
      { phone_numbers: ["(415) 555-2671"], defaultCountry: "us" },
      t.auth,
    );
    expect(r.status, r.text).toBe(201);
    const list = await call("GET", "/api/v1/suppressions", undefined, t.auth);
    expect(list.json.data[0].phone_number).toBe("+14155552671");
  });

  it("answers 400 with the results when no number is valid, and refuses more than 10,000", async () => {
    const t = await newTenant();
    const none = await call("POST", "/api/v1/suppressions", { phone_numbers: ["nope"] }, t.auth);
    expect(none.status).toBe(400);
    expect(none.json.results).toMatchObject({ total: 1, valid: 0, invalid: 1 });

    const tooMany = await call(
      "POST",
      "/api/v1/suppressions",
      { phone_numbers: Array.from({ length: 10_001 }, (_, i) => `98${String(10_000_000 + i).slice(-8)}`) },
      t.auth,
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.code).toBe("validation_error");
  });

  it("stores 10,000 numbers in one request and pages through them with a cursor", async () => {
    const t = await newTenant();
    const numbers = Array.from({ length: 10_000 }, (_, i) => `98${String(20_000_000 + i).slice(-8)}`);
    const r = await call("POST", "/api/v1/suppressions", { phone_numbers: numbers }, t.auth);
    expect(r.status, r.text).toBe(201);
    expect(r.json.results.added).toBe(10_000);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await call(
        "GET",
        `/api/v1/suppressions?limit=500${cursor ? `&cursor=${cursor}` : ""}`,
        undefined,
        t.auth,
      );
      seen.push(...page.json.data.map((s: any) => s.phone_number));
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(10_000);
    expect(new Set(seen).size).toBe(10_000);
    expect([...seen].sort()).toEqual(seen);
  });

  it("DELETE removes a number however it is written; 404 when it is not on the list", async () => {
    const t = await newTenant();
    await call("POST", "/api/v1/suppressions", { phone_numbers: ["9876543210", "9876543211"] }, t.auth);
    expect((await call("DELETE", "/api/v1/suppressions/%2B919876543210", undefined, t.auth)).status).toBe(
      204,
    );
    expect((await call("DELETE", "/api/v1/suppressions/09876543211", undefined, t.auth)).status).toBe(204);
    const gone = await call("DELETE", "/api/v1/suppressions/9876543211", undefined, t.auth);
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe("not_found");
    expect((await call("DELETE", "/api/v1/suppressions/12", undefined, t.auth)).status).toBe(400);
    expect((await call("GET", "/api/v1/suppressions", undefined, t.auth)).json.data).toEqual([]);
  });

  it("belongs to one organization and needs its API key", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await call("POST", "/api/v1/suppressions", { phone_numbers: ["9876543210"] }, a.auth);
    expect((await call("GET", "/api/v1/suppressions", undefined, b.auth)).json.data).toEqual([]);
    expect((await call("DELETE", "/api/v1/suppressions/9876543210", undefined, b.auth)).status).toBe(404);
    for (const [method, path, body] of [
      ["GET", "/api/v1/suppressions", undefined],
      ["POST", "/api/v1/suppressions", { phone_numbers: ["9876543210"] }],
      ["DELETE", "/api/v1/suppressions/9876543210", undefined],
    ] as const) {
      const r = await call(method, path, body, { Authorization: "Bearer nope" });
      expect(r.status).toBe(401);
    }
    expect((await call("GET", "/api/v1/suppressions", undefined, a.auth)).json.data).toHaveLength(1);
  });
});
