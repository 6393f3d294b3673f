// Migration 0005 on a database that already holds campaigns whose workflows have URL `webhook`
// steps (signed, before it, with one deployment-wide secret): each (organization, URL) becomes a
// registered webhook of that organization and the steps name it, everything else unchanged. The same
// SQL runs on D1 (wrangler applies the same file).
import { createClient } from "@libsql/client";
import { afterAll, describe, expect, it } from "vitest";
import { applyMigrations, readMigrations } from "../../src/db/migrator";
import { WorkflowDefinition } from "../../src/domain/model/workflow";

const client = createClient({ url: ":memory:" });
afterAll(() => client.close());

async function campaign(org: string, id: string, workflow: unknown) {
  await client.execute({
    sql: `INSERT INTO campaigns (organization_id, id, name, campaign_type, timezone, default_country,
      window_start, window_end, window_days, workflow, created_at)
      VALUES (?, ?, ?, 'emi', 'UTC', 'IN', '08:00', '19:00', '["mon"]', ?, 1)`,
    args: [org, id, id, workflow === null ? null : JSON.stringify(workflow)],
  });
}

describe("migration 0005 and workflow webhook steps that named a URL", () => {
  it("turns each organization's step URLs into webhooks the steps name", async () => {
    const migrations = await readMigrations("migrations");
    const before = migrations.filter((m) => m.name < "0005");
    await applyMigrations(client, before);
    for (const org of ["org_a", "org_b"]) {
      await client.execute({
        sql: "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, 1)",
        args: [org, org],
      });
    }
    const legacy = {
      steps: [
        { type: "wait", duration: 86_400 },
        { type: "webhook", url: "https://a.example/hooks" },
        { type: "call" },
        { type: "webhook", url: "https://b.example/hooks" },
        { type: "webhook", url: "https://a.example/hooks" },
      ],
    };
    await campaign("org_a", "one", legacy);
    await campaign("org_a", "two", { steps: [{ type: "webhook", url: "https://a.example/hooks" }] });
    await campaign("org_b", "one", { steps: [{ type: "webhook", url: "https://a.example/hooks" }] });
    await campaign("org_b", "plain", { steps: [{ type: "call", agentId: "x", dispositionId: "y" }] });
    await campaign("org_b", "default", null);

    const report = await applyMigrations(client, migrations);
    expect(report.applied).toEqual(migrations.filter((m) => m.name >= "0005").map((m) => m.name));

    const hooks = (
      await client.execute(
        "SELECT id, organization_id, url, events, secret, deleted_at FROM webhooks ORDER BY organization_id, url",
      )
    ).rows.map((r) => ({ ...r }));
    expect(hooks.map((h) => [h.organization_id, h.url, h.events, h.secret, h.deleted_at])).toEqual([
      ["org_a", "https://a.example/hooks", "[]", null, null],
      ["org_a", "https://b.example/hooks", "[]", null, null],
      ["org_b", "https://a.example/hooks", "[]", null, null],
    ]);
    const idOf = (org: string, url: string) =>
      hooks.find((h) => h.organization_id === org && h.url === url)?.id;
    expect(idOf("org_a", "https://a.example/hooks")).toMatch(/^wh_[0-9a-f]{24}$/);

    const stored = new Map(
      (await client.execute("SELECT organization_id || '/' || id AS k, workflow FROM campaigns")).rows.map(
        (r) => [String(r.k), r.workflow === null ? null : JSON.parse(String(r.workflow))],
      ),
    );
    const a = idOf("org_a", "https://a.example/hooks");
    expect(stored.get("org_a/one")).toEqual({
      steps: [
        { type: "wait", duration: 86_400 },
        { type: "webhook", webhookId: a },
        { type: "call" },
        { type: "webhook", webhookId: idOf("org_a", "https://b.example/hooks") },
        { type: "webhook", webhookId: a },
      ],
    });
    expect(stored.get("org_a/two")).toEqual({ steps: [{ type: "webhook", webhookId: a }] });
    expect(stored.get("org_b/one")).toEqual({
      steps: [{ type: "webhook", webhookId: idOf("org_b", "https://a.example/hooks") }],
    });
    expect(stored.get("org_b/plain")).toEqual({
      steps: [{ type: "call", agentId: "x", dispositionId: "y" }],
    });
    expect(stored.get("org_b/default")).toBeNull();
    // What a run reads back is a valid definition again.
    for (const workflow of stored.values())
      if (workflow) expect(WorkflowDefinition.safeParse(workflow).success).toBe(true);
  });
});
