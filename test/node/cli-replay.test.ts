// `plinth events replay` against a served plinth: it pages through the
// replay API, prints progress, and the emptied read model comes back.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedWorker, serveWorker } from "./proxy/worker";

const ROOT = path.resolve(import.meta.dirname, "../..");
let worker: ServedWorker | undefined;
/** One statement on the served Worker's D1 (its SQL probe; see ServedWorker.sql). */
const sql = (query: string, ...params: unknown[]) => {
  if (!worker) throw new Error("no worker");
  return worker.sql(query, ...params);
};

// Bundling and starting the Worker takes longer than vitest's 10 s hook limit on a busy machine.
beforeAll(async () => {
  worker = await serveWorker(ROOT);
}, 120_000);
afterAll(async () => {
  await worker?.stop();
});

function plinth(args: string[], extra: Record<string, string>) {
  const env = { ...process.env, ...extra };
  if (!("PLATFORM_ROOT_KEY" in extra)) delete env.PLATFORM_ROOT_KEY;
  return spawnSync(process.execPath, [path.join(ROOT, "scripts", "plinth.mjs"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env,
    timeout: 60_000,
  });
}

describe("plinth events replay", () => {
  it("rebuilds an emptied read model through the API, page by page, printing progress", async () => {
    if (!worker) throw new Error("no worker");
    const { origin, rootKey } = worker;
    const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> });
    const created = await json(
      await fetch(`${origin}/api/v1/platform/tenants`, {
        method: "POST",
        headers: { authorization: `Bearer ${rootKey}`, "content-type": "application/json" },
        body: JSON.stringify({ slug: `cli-${Date.now().toString(36)}`, name: "CLI" }),
      }),
    );
    expect(created.status).toBe(201);
    const tenantId = String(created.body.id);
    const key = String(created.body.admin_key);
    for (let i = 0; i < 3; i++) {
      const post = await fetch(`${origin}/api/v1/blog/posts`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ title: `p${i}`, content: "" }),
      });
      expect(post.status).toBe(201);
    }
    // D1 through the served Worker's SQL probe: Miniflare's synchronous proxy once failed its own
    // `message?.id === id` assertion mid-poll here, and can block the test's thread for good.
    const counter = (query: string) => async () => (await sql(query, tenantId)).results[0]?.n;
    const streams = counter("select count(*) as n from event_streams where tenant_id = ?");
    const posts = counter("select count(*) as n from blog_posts where tenant_id = ?");
    for (let i = 0; i < 200 && (await streams()) !== 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await posts()).toBe(3);
    await sql("delete from blog_posts where tenant_id = ?", tenantId);
    expect(await posts()).toBe(0);

    // No key, and a remote plinth (so no .dev.vars either): a usage error, before any request.
    const refused = plinth(["events", "replay", "blog:blog.posts", "--url", "https://plinth.invalid"], {});
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("PLATFORM_ROOT_KEY");

    /** `plinth events replay blog:blog.posts` with the root key against the served plinth. */
    const replay = (...args: string[]) =>
      plinth(["events", "replay", "blog:blog.posts", ...args, "--url", origin], { PLATFORM_ROOT_KEY: rootKey });
    const run = replay("--tenant", tenantId, "--rebuild", "--limit", "2");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^blog:blog\.posts: 2 streams, 2 events read, 2 applied \(\d+ events\/s\) … after /);
    expect(lines[1]).toMatch(/^blog:blog\.posts: 3 streams, 3 events read, 3 applied \(\d+ events\/s\), done$/);
    expect(await posts()).toBe(3);

    // A call's event budget: one event per call, so every call ends inside a stream and the
    // next goes on from there; the totals still count each stream and event once.
    await sql("delete from blog_posts where tenant_id = ?", tenantId);
    const budgeted = replay("--tenant", tenantId, "--rebuild", "--max-events", "1");
    expect(budgeted.stderr).toBe("");
    expect(budgeted.status).toBe(0);
    const pages = budgeted.stdout.trim().split("\n");
    expect(pages).toHaveLength(4);
    expect(pages[0]).toMatch(/^blog:blog\.posts: 0 streams, 1 events read, 1 applied \(\d+ events\/s\) … after 1@/);
    expect(pages[3]).toMatch(/^blog:blog\.posts: 3 streams, 3 events read, 3 applied \(\d+ events\/s\), done$/);
    expect(await posts()).toBe(3);

    // --after goes on from a cursor an earlier run printed: here after the first stream's
    // first event, so that stream is finished and the other two are read.
    const cursor = /… after (\S+)$/.exec(pages[0] ?? "")?.[1] ?? "";
    expect(cursor).toMatch(/^1@/);
    const resumed = replay("--tenant", tenantId, "--rebuild", "--max-events", "1", "--after", cursor);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout.trim().split("\n").at(-1)).toMatch(/: 3 streams, 2 events read, 2 applied .*, done$/);
    // A first call refused (a tenant id over 64 characters) is the command's own problem: no resume
    // line repeating the --after given (a call failing mid-run: test/node/cli-operator.test.ts).
    const failed = replay("--tenant", "t".repeat(65), "--after", cursor);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("body.tenant_id");
    expect(failed.stderr).not.toContain("resume with");
    // A mistyped stream id said "0 streams … done", exit 0: now refused, naming the cursor, no
    // resume line (the same --after would be refused again).
    const mistyped = `${tenantId}/post/NOSUCH`;
    const unknown = replay("--tenant", tenantId, "--after", mistyped);
    expect(unknown.status).toBe(1);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toContain(`400 validation_failed: no stream ${mistyped} of blog:blog.posts's writers`);
    expect(unknown.stderr).not.toContain("resume with");
    const badBudget = replay("--max-events", "0");
    expect(badBudget.status).toBe(2);
    expect(badBudget.stderr).toContain("--max-events is 1 to 5000");

    // What no replay can read is said once, on stderr, before the counts ...
    const asRoot = (...args: string[]) => plinth([...args, "--url", origin], { PLATFORM_ROOT_KEY: rootKey });
    const audit = asRoot("events", "replay", "audit:log", "--tenant", tenantId);
    expect(audit.status).toBe(0);
    expect(audit.stderr).toMatch(/^audit:log: not replayed, their writers keep no event log: .*files\.file\.uploaded/);
    // The audit log's chains hold it whole: the warning says what brings all of it back.
    expect(audit.stderr).toMatch(/; --rebuild copies audit:log whole from its objects' state\n$/);
    expect(audit.stderr.trim().split("\n")).toHaveLength(1);
    expect(audit.stdout.trim().split("\n").at(-1)).toMatch(/^audit:log: 3 streams, .*, done$/);
    // With --json the same warning is a JSON line, naming the types a script can act on.
    const auditJson = asRoot("events", "replay", "audit:log", "--tenant", tenantId, "--json");
    expect(auditJson.status).toBe(0);
    expect(
      auditJson.stderr
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual([
      expect.objectContaining({
        warning: "not_replayed",
        consumer: "audit:log",
        event_types: expect.arrayContaining(["files.file.uploaded"]),
      }),
    ]);
    // ... and a replay that could read nothing is refused (a --rebuild of it copies the file stores instead).
    const files = asRoot("events", "replay", "files:files.files");
    expect(files.status).toBe(1);
    expect(files.stderr).toContain("replay cannot read them");
  });

  it("rebuilds a tenant's audit entries from its chain: plinth audit rebuild, and events replay audit:log --rebuild", async () => {
    if (!worker) throw new Error("no worker");
    const { origin, rootKey } = worker;
    // The CLI runs through spawnSync, which blocks this thread for seconds while the served Worker
    // closes idle keep-alive connections: let undici see those closes before it picks a socket
    // (a fetch at once reused a closed one: "other side closed").
    await new Promise((r) => setTimeout(r, 100));
    const created = await fetch(`${origin}/api/v1/platform/tenants`, {
      method: "POST",
      headers: { authorization: `Bearer ${rootKey}`, "content-type": "application/json" },
      body: JSON.stringify({ slug: `cla-${Date.now().toString(36)}`, name: "CLI audit" }),
    });
    expect(created.status).toBe(201);
    const { id: tenantId, admin_key: key } = (await created.json()) as { id: string; admin_key: string };
    // Entries from a writer with no event log (API keys: the tenant directory), which no replay of events reads.
    for (let i = 0; i < 4; i++) {
      const made = await fetch(`${origin}/api/v1/admin/api-keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ name: `k${i}`, scopes: ["blog.post.read"] }),
      });
      expect(made.status).toBe(201);
    }
    const count = async () =>
      Number((await sql("select count(*) as n from audit_entries where tenant_id = ?", tenantId)).results[0]?.n ?? 0);
    // The tenant's creation, its admin key and the four keys: at least six entries, then no more arriving.
    let [seen, stable] = [0, 0];
    for (let i = 0; i < 200 && stable < 4; i++) {
      const now = await count();
      stable = now >= 6 && now === seen ? stable + 1 : 0;
      seen = now;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toBeGreaterThanOrEqual(6);
    const allRows = async () =>
      (await sql("select * from audit_entries where tenant_id = ? order by seq", tenantId)).results;
    const live = await allRows();
    await sql("delete from audit_entries where tenant_id = ? and seq % 2 = 0", tenantId);
    const dropped = seen - (await count());
    expect(dropped).toBeGreaterThan(0);

    const asRoot = (...args: string[]) => plinth([...args, "--url", origin], { PLATFORM_ROOT_KEY: rootKey });
    // Two entries a call: every line but the last goes on inside the chain.
    const run = asRoot("audit", "rebuild", "--tenant", tenantId, "--max-entries", "2");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(Math.floor(seen / 2) + 1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^audit:log: rebuilt from state, 0 tenants, 2 records read, 1 rows written \\(\\d+ records/s\\) … after 2@${tenantId}$`,
      ),
    );
    expect(lines.at(-1)).toMatch(
      new RegExp(`^audit:log: rebuilt from state, 1 tenants, ${seen} records read, ${dropped} rows written .*, done$`),
    );
    expect(await allRows()).toEqual(live);

    // The same through events replay, with --json: over an intact table it reads all and writes nothing.
    const again = asRoot("events", "replay", "audit:log", "--rebuild", "--tenant", tenantId, "--json");
    expect(again.stderr).toBe("");
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ calls: 1, source: "state", tenants: 1, records: seen, written: 0 });
    expect(await allRows()).toEqual(live);
    const bad = asRoot("audit", "rebuild", "--max-entries", "5001");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--max-entries is 1 to 5000");
  });
});
