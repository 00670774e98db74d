// The read guard's and the queue's knowledge of pending migrations (kernel/health/
// pending-migrations) with read models on libSQL: a libSQL database that lacks a shipped
// migration is pending like D1 lacking one, since a column it lacks would read as its name:
// API reads answer 503 until it is applied.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateLibsql } from "../../scripts/lib/db-migrate.mjs";
import { MIGRATIONS } from "../../src/generated/migrations";
import { migrationWatch, PENDING_RECHECK_MS } from "../../src/kernel/health/pending-migrations";
import { servedApi, until } from "./proxy/served-api";
import { type ServedWorker, serveWorker } from "./proxy/worker";
import { type HranaServer, startHranaServer } from "./support/hrana-server";

const TOKEN = `tok_${Date.now().toString(36)}_watch`;
const dir = mkdtempSync(path.join(tmpdir(), "plinth-watch-"));
const file = path.join(dir, "read-models.db");
const ROOT = path.resolve(import.meta.dirname, "../..");
let libsql: HranaServer;
let worker: ServedWorker | undefined;
/** A tenant admin's key on `worker`, once the test that serves it made one. */
let key: string | undefined;

beforeAll(async () => {
  libsql = await startHranaServer(file, TOKEN);
  await migrateLibsql({ url: libsql.url, authToken: TOKEN });
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await libsql?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A D1 stand-in that has every shipped migration applied; only `d1_migrations` is read of it. */
const migratedD1 = {
  prepare: (query: string) => {
    if (!query.includes("d1_migrations")) throw new Error(`unexpected D1 query: ${query}`);
    return { all: async () => ({ results: MIGRATIONS.map((name) => ({ name })) }) };
  },
};
const envOf = (vars: Record<string, string>) => ({ DB: migratedD1, ...vars }) as unknown as Env;

/** Runs `query` on the libSQL file beside the server. */
async function inLibsql(query: string) {
  const client = createClient({ url: `file:${file}` });
  try {
    return await client.execute(query);
  } finally {
    client.close();
  }
}

/** Forgets drizzle's record of the newest migration, as if it had not reached libSQL; returns its restoration. */
async function unapplyNewest(): Promise<() => Promise<unknown>> {
  const kept = await inLibsql("select id, hash, created_at from __drizzle_migrations order by created_at desc limit 1");
  const row = kept.rows[0];
  await inLibsql(
    "delete from __drizzle_migrations where created_at = (select max(created_at) from __drizzle_migrations)",
  );
  return () =>
    inLibsql(
      `insert into __drizzle_migrations (id, hash, created_at) values (${row?.id}, '${row?.hash}', ${row?.created_at})`,
    );
}

describe("pending migrations with read models on libSQL", () => {
  it("names a migration the libSQL database lacks, and none once it is applied, looking at most every 5 s", async () => {
    const env = envOf({ READ_MODEL_URL: libsql.url, READ_MODEL_AUTH_TOKEN: TOKEN });
    const last = MIGRATIONS.at(-1);
    const restore = await unapplyNewest();
    const watch = migrationWatch(MIGRATIONS);
    expect(await watch.look(env, 0)).toEqual({ pending: [`libSQL ${last}`], fresh: true });
    await restore();
    const statements = libsql.statements.length;
    expect(await watch.look(env, PENDING_RECHECK_MS - 1)).toEqual({ pending: [`libSQL ${last}`], fresh: false });
    expect(libsql.statements.length).toBe(statements);
    expect(await watch.look(env, PENDING_RECHECK_MS)).toEqual({ pending: [], fresh: true });
    expect(watch.settled()).toBe(true);
  });

  it("looks again when a read met a missing table, and un-settles on a migration libSQL lost", async () => {
    const env = envOf({ READ_MODEL_URL: libsql.url, READ_MODEL_AUTH_TOKEN: TOKEN });
    const watch = migrationWatch(MIGRATIONS);
    expect(await watch.look(env, 0)).toEqual({ pending: [], fresh: true });
    expect(watch.settled()).toBe(true);
    const restore = await unapplyNewest();
    try {
      const statements = libsql.statements.length;
      expect(await watch.recheck(env, PENDING_RECHECK_MS - 1)).toEqual({ pending: [], fresh: false });
      expect(libsql.statements.length).toBe(statements);
      const last = MIGRATIONS.at(-1);
      expect(await watch.recheck(env, PENDING_RECHECK_MS)).toEqual({ pending: [`libSQL ${last}`], fresh: true });
      expect(watch.settled()).toBe(false);
    } finally {
      await restore();
    }
  });

  it("asks libSQL nothing when the read models live in D1", async () => {
    const statements = libsql.statements.length;
    const watch = migrationWatch(MIGRATIONS);
    expect(await watch.look(envOf({}), 0)).toEqual({ pending: [], fresh: true });
    expect(libsql.statements.length).toBe(statements);
  });

  it("refuse API reads with 503 unavailable until libSQL has it, then serve them", async () => {
    const restore = await unapplyNewest();
    worker = await serveWorker(ROOT, { vars: { READ_MODEL_URL: libsql.url, READ_MODEL_AUTH_TOKEN: TOKEN } });
    const api = servedApi(() => worker);
    const slug = `watch-${Date.now().toString(36)}`;
    const tenant = await api("POST", "/api/v1/platform/tenants", {
      key: worker.rootKey,
      body: { slug, name: "Watch" },
    });
    expect(tenant.status, JSON.stringify(tenant.body)).toBe(201);
    key = String(tenant.body.admin_key);
    // Every table the list reads exists: without the guard it would answer 200.
    const refused = await api("GET", "/api/v1/blog/posts", { key });
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.body.code).toBe("unavailable");
    await restore();
    await until("the list served again", async () => {
      const res = await api("GET", "/api/v1/blog/posts", { key });
      return res.status === 200 ? res : undefined;
    });
  }, 120_000);

  it("call a table missing from an up-to-date libSQL database the operator's to restore, not a rollout", async () => {
    // With READ_MODEL_URL every missing table was "being brought up to date; try again shortly"
    // (Retry-After: 30), for ever, since D1's record said nothing of libSQL's.
    expect(worker && key, "served by the test before").toBeTruthy();
    const api = servedApi(() => worker);
    await inLibsql("alter table blog_posts rename to blog_posts_hidden");
    try {
      const res = await fetch(`${worker?.origin}/api/v1/blog/posts`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { detail?: string };
      expect(res.status, JSON.stringify(body)).toBe(503);
      expect(body.detail).toBe(
        "part of the service's database is missing although it is up to date: an operator must restore it",
      );
      expect(res.headers.get("retry-after")).toBeNull();
      // Where the operator is sent to find the table: with READ_MODEL_URL it counted migrations only.
      const ready = await api("GET", "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body.checks).toMatchObject({
        read_models: {
          ok: false,
          error: "tables missing although their migrations are applied: blog_posts (0002_blog.sql)",
        },
        migrations: { ok: true },
      });
    } finally {
      await inLibsql("alter table blog_posts_hidden rename to blog_posts");
    }
    expect((await api("GET", "/api/v1/blog/posts", { key })).status).toBe(200);
  }, 60_000);
});
