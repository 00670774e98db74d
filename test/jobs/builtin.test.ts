import { createExecutionContext, createScheduledController, runInDurableObject, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createPlatform } from "../../src/app";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock, systemClock } from "../../src/kernel/clock";
import { deadLetterStore } from "../../src/kernel/events/dead-letters";
import { processedLedger } from "../../src/kernel/events/ledger";
import { jobRunner } from "../../src/kernel/jobs/contract";
import { createScheduledHandler } from "../../src/kernel/jobs/scheduled";
import { createLogger } from "../../src/kernel/log";
import { METRICS } from "../../src/kernel/metrics/catalog";
import { isolateRecorder } from "../../src/kernel/metrics/recorder";
import { readModels } from "../../src/kernel/read-models";
import { modules } from "../../src/modules";
import { auditLog } from "../../src/modules/audit/contract";
import { runJobNamed } from "../helpers";
import { auditOf, call, login, newTenant, newUser, ORIGIN, rootKey, spentLongAgo } from "../identity/helpers";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const later = (ms: number) => manualClock(new Date(systemClock.now().getTime() + ms));

/** Rows of a tenant directory's credential tables. */
const credentialRows = (tenantId: string) =>
  runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_, state) => {
    const count = (table: string) =>
      state.storage.sql.exec<{ n: number }>(`select count(*) as n from ${table}`).one().n;
    return {
      one_time_tokens: count("one_time_tokens"),
      token_families: count("token_families"),
      refresh_tokens: count("refresh_tokens"),
    };
  });

/** Log lines written through a logger, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("debug", {}, (_level, line) => void lines.push(JSON.parse(line) as Record<string, unknown>));
  return { log, lines };
}

describe("built-in jobs", () => {
  afterEach(() => vi.restoreAllMocks());

  it("tenants/purge-tokens forgets expired reset and verification tokens and dead refresh families", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("purge");
    const ada = await newUser(t.slug); // a verification token, and a first session
    const reset = await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: ada.email } });
    expect(reset.status).toBe(202);
    const out = await call("/api/v1/auth/logout", { tenant: t.slug, body: { refresh_token: ada.refresh_token } });
    expect(out.status).toBe(204);
    const live = await login(t.slug, ada.email);
    expect(await credentialRows(t.id)).toEqual({ one_time_tokens: 2, token_families: 2, refresh_tokens: 2 });

    // Now: only the logged-out family goes.
    expect((await runJobNamed("tenants/purge-tokens")).ran).toBe(true);
    expect(await credentialRows(t.id)).toEqual({ one_time_tokens: 2, token_families: 1, refresh_tokens: 1 });
    // Two hours on, the reset token (1 h) has expired; the verification token (24 h) has not.
    await runJobNamed("tenants/purge-tokens", { clock: later(2 * HOUR) });
    expect(await credentialRows(t.id)).toEqual({ one_time_tokens: 1, token_families: 1, refresh_tokens: 1 });
    // The live session still refreshes.
    const refreshed = await call("/api/v1/auth/refresh", {
      tenant: t.slug,
      body: { refresh_token: live.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    // A month on, everything has expired.
    await runJobNamed("tenants/purge-tokens", { clock: later(31 * DAY) });
    expect(await credentialRows(t.id)).toEqual({ one_time_tokens: 0, token_families: 0, refresh_tokens: 0 });
  });

  it("tenants/purge-tokens forgets API keys 30 days after they expired or were revoked, with their D1 index rows", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("keys");
    const expiry = new Date(systemClock.now().getTime() + HOUR).toISOString();
    const make = async (name: string, expires_at?: string) => {
      const res = await call("/api/v1/admin/api-keys", {
        token: t.adminKey,
        body: { name, scopes: ["blog.post.read"], ...(expires_at ? { expires_at } : {}) },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return { id: String(res.body.id), key: String(res.body.key) };
    };
    const expiring = await make("expiring", expiry);
    const lasting = await make("lasting");
    const revoked = await make("revoked");
    const revocation = await call(`/api/v1/admin/api-keys/${revoked.id}`, { method: "DELETE", token: t.adminKey });
    expect(revocation.status).toBe(204);
    const keyIds = () =>
      runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) =>
        state.storage.sql
          .exec<{ id: string }>("select id from api_keys")
          .toArray()
          .map((r) => r.id),
      );
    const indexed = async () =>
      (
        await env.DB.prepare("select count(*) as n from api_key_index where tenant_id = ?")
          .bind(t.id)
          .first<{ n: number }>()
      )?.n;
    expect(await indexed()).toBe(3);

    // Expired (or revoked), but not 30 days ago: its row stays for the admin to read about.
    await runJobNamed("tenants/purge-tokens", { clock: later(29 * DAY) });
    expect(await keyIds()).toEqual(expect.arrayContaining([expiring.id, revoked.id]));
    expect(await indexed()).toBe(3);
    // 30 days after its expiry (its revocation) it is gone, with its index row; the live key stays.
    const purge = capture();
    await runJobNamed("tenants/purge-tokens", { clock: later(HOUR + 30 * DAY), log: purge.log });
    // The log line counts them: a field named like a secret (`api_keys`) was redacted, so an
    // operator after a key incident could not see that the purge removed any.
    const purged = purge.lines.find((l) => l.msg === "expired credentials purged");
    expect(JSON.stringify(purged)).not.toContain("[redacted]");
    expect(purged?.api_keys_purged).toEqual(expect.any(Number));
    expect(Number(purged?.api_keys_purged)).toBeGreaterThanOrEqual(2);
    const left = await keyIds();
    expect(left).not.toContain(expiring.id);
    expect(left).not.toContain(revoked.id);
    expect(left).toContain(lasting.id);
    expect(await indexed()).toBe(2);
    const refused = await call("/api/v1/blog/posts", { method: "GET", token: expiring.key });
    expect(refused.status).toBe(401);
    expect((await call("/api/v1/blog/posts", { method: "GET", token: lasting.key })).status).toBe(200);
  });

  it("a spent refresh token of a live family survives the purge, so presenting it still revokes the family", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("reuse");
    const ada = await newUser(t.slug);
    const next = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: ada.refresh_token } });
    expect(next.status).toBe(200);
    await spentLongAgo(t.id);
    await runJobNamed("tenants/purge-tokens");
    const reuse = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: ada.refresh_token } });
    expect(reuse.status).toBe(401);
    const after = await call("/api/v1/auth/refresh", {
      tenant: t.slug,
      body: { refresh_token: next.body.refresh_token },
    });
    expect(after.status).toBe(401);
  });

  it("audit/checkpoint signs a checkpoint at the head of every tenant's log that advanced", async () => {
    const tenants = [await newTenant("cp"), await newTenant("cp")];
    const heads = new Map<string, number>();
    for (const t of tenants) {
      const post = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "t", content: "c" } });
      expect(post.status).toBe(201);
      await auditOf(t.adminKey, "blog.post.created");
      const before = await auditLog(env, t.id).verify();
      expect(before.checkpoint?.seq ?? 0).toBeLessThan(before.last_seq);
      heads.set(t.id, before.last_seq);
    }
    const run = await runJobNamed("audit/checkpoint");
    expect(run.ran && run.run.outcome, JSON.stringify(run)).toBe("ok");
    for (const t of tenants) {
      // At least the head seen before the run (an entry on its way may land after it).
      const after = await auditLog(env, t.id).verify();
      expect(after.ok).toBe(true);
      expect(after.checkpoint?.seq ?? 0).toBeGreaterThanOrEqual(heads.get(t.id) ?? Number.POSITIVE_INFINITY);
    }
  });

  it("events/purge-processed forgets processed event ids older than any redelivery", async () => {
    const ledger = processedLedger(readModels(env));
    const now = systemClock.now();
    await ledger.mark("probe:purge", "ev-old", new Date(now.getTime() - 16 * DAY));
    await ledger.mark("probe:purge", "ev-new", new Date(now.getTime() - DAY));
    const { run } = (await runJobNamed("events/purge-processed")) as { run: { outcome: string } };
    expect(run.outcome).toBe("ok");
    expect(await ledger.seen("probe:purge", "ev-old")).toBe(false);
    expect(await ledger.seen("probe:purge", "ev-new")).toBe(true);
  });

  it("events/dead-letter-report logs waiting dead letters by type and the new ones, and leaves the counting to their consumers", async () => {
    // The report covers every waiting letter; test files share storage, so start from none.
    await env.DB.prepare("delete from dead_letters").run();
    // "new" counts the letters received since the report's last success, which another test may
    // have left in the future (the minutely trigger's, below, runs it at 2031, first when the order
    // is shuffled): this test's letters and runs come after whichever is later.
    const { last_success } = await jobRunner(env, "events/dead-letter-report").status({ limit: 1 });
    const at = Math.max(systemClock.now().getTime(), (last_success ?? 0) + 60_000);
    const clock = manualClock(new Date(at));
    const store = deadLetterStore(env.DB);
    const letter = (id: string, type: string, tenant = "t1") =>
      store.store(
        "plinth-events",
        // Each its own event: letters are kept once per event (a body without an id, by its content).
        { id, body: { id: `ev-${id}`, type, tenant_id: tenant }, attempts: 6 },
        "handler failed",
        clock.now(),
      );
    await letter("m-report-1", "blog.post.created");
    await letter("m-report-2", "blog.post.created");
    await letter("m-report-3", "identity.user.registered", "t2");
    const counted = vi.spyOn(isolateRecorder, "inc");

    const first = capture();
    const ran = await runJobNamed("events/dead-letter-report", { log: first.log, clock });
    const report = first.lines.find((l) => l.msg === "dead letters wait for an operator");
    // What it found is the run's result too, recorded with the run: `plinth jobs run` printed
    // only "ok", and the operator who ran it had to find the log line to learn what waits.
    const found = {
      waiting: 3,
      new: 3,
      already_applied: 0,
      unchecked: 0,
      by_type: { "blog.post.created": 2, "identity.user.registered": 1 },
      by_tenant: { t1: 2, t2: 1 },
    };
    expect(ran.ran && ran.run.result).toEqual(found);
    const status = await jobRunner(env, "events/dead-letter-report").status({ limit: 1 });
    expect(status.runs[0]?.result).toEqual(found);
    expect(report).toMatchObject({
      level: "warn",
      job: "events/dead-letter-report",
      waiting: 3,
      new: 3,
      by_type: { "blog.post.created": 2, "identity.user.registered": 1 },
      // Letters are listed and replayed per tenant (plinth dead-letters, with a tenant's key): the
      // report names whose they are, or the operator had to query D1 to know whom to turn to.
      by_tenant: { t1: 2, t2: 1 },
    });
    // The consumers counted each letter as they stored it (test/kernel/dead-letters-counted.test.ts):
    // counted again here, a letter would count twice, and one dismissed before the report not at all.
    const deadLetterCounts = () => counted.mock.calls.filter(([def]) => def === METRICS.deadLetters);
    expect(deadLetterCounts()).toEqual([]);

    // The next report still sees them waiting, but none new.
    const second = capture();
    await runJobNamed("events/dead-letter-report", { log: second.log, clock: manualClock(new Date(at + 1)) });
    expect(second.lines.find((l) => l.msg === "dead letters wait for an operator")).toMatchObject({
      waiting: 3,
      new: 0,
    });
    expect(deadLetterCounts()).toEqual([]);
  });

  it("the deployed modules' jobs run when due from the one minutely trigger, and show in GET /api/v1/platform/jobs", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const scheduled = createScheduledHandler(createPlatform({ modules, migrations: MIGRATIONS }));
    // hh:45 is the dead-letter report's minute, and only its.
    await scheduled(
      createScheduledController({ scheduledTime: new Date("2031-05-05T10:45:00.000Z"), cron: "* * * * *" }),
      env,
      createExecutionContext(),
    );
    const res = await SELF.fetch(`${ORIGIN}/api/v1/platform/jobs`, {
      headers: { authorization: `Bearer ${rootKey()}` },
    });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as {
      items: { module: string; job: string; cron: string; last_run: { fire_time: string; trigger: string } | null }[];
    };
    expect(items.map((j) => `${j.module}/${j.job} ${j.cron}`).sort()).toEqual([
      "audit/checkpoint 0 * * * *",
      "events/dead-letter-report 45 * * * *",
      "events/purge-processed 15 * * * *",
      "tenants/apply-grants 20 * * * *",
      "tenants/erase-deleted * * * * *",
      "tenants/purge-tokens 30 * * * *",
      "tenants/resend-unqueued-mail * * * * *",
      "tenants/sweep-erased 50 * * * *",
    ]);
    const report = items.find((j) => j.job === "dead-letter-report");
    expect(report?.last_run).toMatchObject({ fire_time: "2031-05-05T10:45:00.000Z", trigger: "cron" });
    expect(items.find((j) => j.job === "checkpoint")?.last_run?.fire_time).not.toBe("2031-05-05T10:45:00.000Z");
  });
});
