// Read models on libSQL, end to end: plinth served by Miniflare with
// READ_MODEL_URL pointing at a libSQL server over HTTP (the Hrana protocol,
// spoken by the real @libsql/client/web inside workerd). /readyz refuses until
// `npx plinth db migrate` has run; then the projections, the ledger and the
// read routes use libSQL, and D1 holds none of their rows.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { servedApi, until } from "./proxy/served-api";
import { type ServedWorker, serveWorker } from "./proxy/worker";
import { type HranaServer, startHranaServer } from "./support/hrana-server";

const ROOT = path.resolve(import.meta.dirname, "../..");
const TOKEN = `tok_${Date.now().toString(36)}_read_models`;
const dir = mkdtempSync(path.join(tmpdir(), "plinth-rm-e2e-"));
const file = path.join(dir, "read-models.db");

let libsql: HranaServer;
let worker: ServedWorker | undefined;

beforeAll(async () => {
  libsql = await startHranaServer(file, TOKEN);
  worker = await serveWorker(ROOT, { vars: { READ_MODEL_URL: libsql.url, READ_MODEL_AUTH_TOKEN: TOKEN } });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await libsql?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const api = servedApi(() => worker);
const served = () => {
  if (!worker) throw new Error("no worker");
  return worker;
};

/** Rows of the libSQL file, read beside the server. */
async function inLibsql(query: string, args: (string | number)[] = []) {
  const client = createClient({ url: `file:${file}` });
  try {
    return (await client.execute({ sql: query, args })).rows;
  } finally {
    client.close();
  }
}

type Checks = Record<string, { ok: boolean; error?: string }>;

describe("read models on a libSQL server", () => {
  it("is not ready until the libSQL migrations are applied, then `npx plinth db migrate` makes it ready", async () => {
    const before = await api("GET", "/readyz");
    expect(before.status).toBe(503);
    const checks = before.body.checks as Checks;
    expect(checks.read_models).toMatchObject({
      ok: false,
      error: "libSQL answers but has no migrations: run `npx plinth db migrate`",
    });
    expect(checks.d1?.ok).toBe(true);

    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, ["scripts/plinth.mjs", "db", "migrate", "--only", "libsql"], {
      cwd: ROOT,
      env: { ...process.env, READ_MODEL_URL: libsql.url, READ_MODEL_AUTH_TOKEN: TOKEN },
    });
    expect(stdout).toContain(`libSQL: ${MIGRATIONS.length} applied, ${MIGRATIONS.length} in all`);
    expect(stdout).not.toContain(TOKEN);

    const after = await api("GET", "/readyz");
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect((after.body.checks as Checks).read_models?.ok).toBe(true);
  });

  it("projects posts and audit entries into libSQL, serves the lists from there, and writes none of it to D1", async () => {
    const slug = `rm-${Date.now().toString(36)}`;
    const tenant = await api("POST", "/api/v1/platform/tenants", {
      key: served().rootKey,
      body: { slug, name: "Read models" },
    });
    expect(tenant.status, JSON.stringify(tenant.body)).toBe(201);
    const tenantId = String(tenant.body.id);
    const key = String(tenant.body.admin_key);

    const titles = ["first", "second", "third"];
    const ids: string[] = [];
    for (const title of titles) {
      const res = await api("POST", "/api/v1/blog/posts", { key, body: { title, content: `about ${title}` } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ids.push(String(res.body.id));
    }
    expect((await api("POST", `/api/v1/blog/posts/${ids[1]}/publish`, { key })).status).toBe(200);

    // The list is the read model's: eventually every post, the published one as such.
    const items = await until("the three posts in the list", async () => {
      const list = await api("GET", "/api/v1/blog/posts?limit=10", { key });
      const found = (list.body.items ?? []) as { id: string; status: string }[];
      return found.length === 3 && found.some((p) => p.status === "published") ? found : undefined;
    });
    expect(items.map((p) => p.id).sort()).toEqual([...ids].sort());

    const rows = await inLibsql("select id, status, version from blog_posts where tenant_id = ? order by id", [
      tenantId,
    ]);
    expect(rows.map((r) => [r.id, r.status])).toEqual(
      [...ids].sort().map((id) => [id, id === ids[1] ? "published" : "draft"]),
    );
    const marks = await inLibsql("select count(*) as n from processed_events where consumer = 'blog:blog.posts'");
    expect(Number(marks[0]?.n)).toBeGreaterThanOrEqual(4);

    // The audit log's copy is there too, and its list reads it.
    const audit = await until("the audit entries", async () => {
      const res = await api("GET", "/api/v1/admin/audit?action=blog.post.created", { key });
      const found = (res.body.items ?? []) as { action: string }[];
      return found.length === 3 ? found : undefined;
    });
    expect(audit.every((e) => e.action === "blog.post.created")).toBe(true);
    expect(
      Number((await inLibsql("select count(*) as n from audit_entries where tenant_id = ?", [tenantId]))[0]?.n),
    ).toBeGreaterThanOrEqual(4);

    // D1 keeps the platform's own tables (the tenant is there) and none of the read models.
    const count = async (table: string, column: string) =>
      (await served().sql(`select count(*) as n from ${table} where ${column} = ?`, tenantId)).results[0]?.n;
    expect(await count("tenants", "id")).toBe(1);
    expect(await count("blog_posts", "tenant_id")).toBe(0);
    expect(await count("audit_entries", "tenant_id")).toBe(0);
    expect((await served().sql("select count(*) as n from processed_events")).results[0]?.n).toBe(0);

    // Every request to libSQL carried the token.
    expect(libsql.authorizations.length).toBeGreaterThan(10);
    expect(new Set(libsql.authorizations)).toEqual(new Set([`Bearer ${TOKEN}`]));
  });
});
