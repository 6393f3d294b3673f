// Store settings and the libSQL HTTP path a Worker uses, run in Node against loopback HTTP servers
// that fail the way a real server can (no answer, refused token, unknown database). A libSQL server
// that answers queries is not available here; the README ("Running on Turso / libSQL") says so.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "@libsql/client/http";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDb, createLibsqlDb } from "../../src/db/client";
import { createCustomersRepository } from "../../src/db/customers-repository";
import {
  configuredStore,
  libsqlFetch,
  resolveStore,
  StoreConfigError,
  StoreUnavailableError,
} from "../../src/db/store";
import { createTenancyRepository } from "../../src/db/tenancy-repository";
import { insertChunk } from "../support/chunks";

const binding = { name: "the D1 binding" } as unknown as D1Database;
const servers: Server[] = [];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** The error and the errors it wraps (the query builder wraps driver errors in its own). */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = error; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<StoreUnavailableError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  const found = chain(error).find((e) => e instanceof StoreUnavailableError);
  if (!found) throw new Error(`expected a StoreUnavailableError, got ${String(error)}`);
  return found as StoreUnavailableError;
}

describe("store settings", () => {
  it("selects the D1 binding when LIBSQL_URL is absent", () => {
    expect(configuredStore({ DB: binding })).toEqual({ kind: "d1", binding });
  });

  it.each([
    ["libsql://bulkcall-acme.turso.io", "tok"],
    ["https://bulkcall-acme.turso.io", "tok"],
    ["http://127.0.0.1:8080", undefined],
  ])("selects libSQL for %s", (url, token) => {
    expect(configuredStore({ DB: binding, LIBSQL_URL: url, LIBSQL_AUTH_TOKEN: token })).toEqual({
      kind: "libsql",
      url,
      authToken: token,
    });
  });

  it("treats an empty token as no token and trims the URL", () => {
    expect(
      configuredStore({ DB: binding, LIBSQL_URL: " libsql://db.example.com\n", LIBSQL_AUTH_TOKEN: "" }),
    ).toEqual({ kind: "libsql", url: "libsql://db.example.com", authToken: undefined });
  });

  it.each([
    ["file:/var/data/local.db", "LIBSQL_URL", /local database \(file:\)/],
    [":memory:", "LIBSQL_URL", /local database \(:memory:\)/],
    ["ws://127.0.0.1:8080", "LIBSQL_URL", /uses ws:/],
    ["libsql://", "LIBSQL_URL", /names no host/],
    ["", "LIBSQL_URL", /set but empty/],
  ])("refuses LIBSQL_URL=%j naming %s", (url, setting, message) => {
    const attempt = () => configuredStore({ DB: binding, LIBSQL_URL: url });
    expect(attempt).toThrow(StoreConfigError);
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(/LIBSQL_URL/);
    try {
      attempt();
    } catch (e) {
      expect((e as StoreConfigError).setting).toBe(setting);
    }
  });

  it("refuses a token without a URL rather than quietly using D1", () => {
    expect(() => configuredStore({ DB: binding, LIBSQL_AUTH_TOKEN: "tok" })).toThrow(
      /LIBSQL_AUTH_TOKEN is set but LIBSQL_URL is not/,
    );
    // An empty token is no setting at all.
    expect(configuredStore({ DB: binding, LIBSQL_AUTH_TOKEN: "" })).toEqual({ kind: "d1", binding });
  });

  it("resolves every organization to the configured store", () => {
    const libsql = { DB: binding, LIBSQL_URL: "libsql://db.example.com", LIBSQL_AUTH_TOKEN: "tok" };
    const expected = { kind: "libsql", url: "libsql://db.example.com", authToken: "tok" };
    expect(resolveStore(libsql, "org_a")).toEqual(expected);
    expect(resolveStore(libsql, "org_b")).toEqual(expected);
    expect(resolveStore(libsql)).toEqual(expected);
    expect(resolveStore({ DB: binding }, "org_a")).toEqual({ kind: "d1", binding });
  });
});

describe("libSQL over HTTP when the server misbehaves", () => {
  let logs: string[] = [];
  beforeEach(() => {
    logs = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => {
      logs.push(String(line));
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const logged = () => logs.map((l) => JSON.parse(l) as { event: string; setting: string; error: string });

  it("gives up on a server that never answers, naming LIBSQL_URL", async () => {
    const url = await serve(() => {
      // Accepts the request and never answers.
    });
    const db = createLibsqlDb(createClient({ url, fetch: libsqlFetch(url, 300) }));
    const started = Date.now();
    const error = await failure(createTenancyRepository(db).findOrganization("org_x"));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error.setting).toBe("LIBSQL_URL");
    expect(error.message).toMatch(
      /libSQL server at LIBSQL_URL \(http:\/\/127\.0\.0\.1:\d+\) did not answer within 300 ms/,
    );
    expect(logged()).toEqual([{ event: "store_unavailable", setting: "LIBSQL_URL", error: error.message }]);
  });

  it("names LIBSQL_AUTH_TOKEN when the server refuses the token, also inside a batch", async () => {
    const url = await serve((_, res) => {
      res.writeHead(401, { "content-type": "text/plain" }).end("Unauthorized");
    });
    const db = createLibsqlDb(createClient({ url, authToken: "wrong", fetch: libsqlFetch(url) }));
    const error = await failure(
      insertChunk(createCustomersRepository(db), 1, "imp", 0, ['["k",null,null,"A",null,"+1"]']),
    );
    expect(error.setting).toBe("LIBSQL_AUTH_TOKEN");
    expect(error.message).toMatch(/refused LIBSQL_AUTH_TOKEN \(HTTP 401\)/);
    expect(error.message).not.toMatch(/wrong/);
    expect(logged()).toEqual([
      { event: "store_unavailable", setting: "LIBSQL_AUTH_TOKEN", error: error.message },
    ]);
  });

  it("names LIBSQL_URL when no database is served there", async () => {
    const url = await serve((_, res) => {
      res.writeHead(404).end();
    });
    const db = createDb({ DB: binding, LIBSQL_URL: url });
    const error = await failure(createTenancyRepository(db).findOrganization("org_x"));
    expect(error.setting).toBe("LIBSQL_URL");
    expect(error.message).toMatch(/answered 404/);
    expect(logged()).toEqual([{ event: "store_unavailable", setting: "LIBSQL_URL", error: error.message }]);
  });
});
