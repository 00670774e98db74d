// A readiness check's timeout runs on the platform's sleeper: a test moves time to time out a
// check that never settles, instead of waiting three seconds.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createPlatform } from "../../src/app";
import { MIGRATION_TABLES, MIGRATIONS } from "../../src/generated/migrations";
import { type HealthCheck, runChecks } from "../../src/kernel/health/checks";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { manualTime } from "../../src/kernel/resilience/sleep";
import { system } from "../../src/modules/system";

const stuck: HealthCheck = { name: "stuck", run: () => new Promise<void>(() => undefined) };
const quick: HealthCheck = { name: "quick", run: async () => {} };

/** Waits for `done` on real time (the other checks do real I/O); fails after 5 s. */
async function settled(done: () => boolean) {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
}

describe("a readiness check's timeout", () => {
  it("fails a check that never settles once the sleeper's time reaches 3 s, and not before", async () => {
    const time = manualTime("2030-01-01T08:00:00Z");
    let result: Awaited<ReturnType<typeof runChecks>> | undefined;
    void runChecks([stuck, quick], env, () => {}, time.sleeper).then((r) => {
      result = r;
    });
    await time.advance(2_999);
    expect(result).toBeUndefined();
    // The quick check's sleep ended with it; the stuck one's is still waiting.
    expect(time.pending()).toBe(1);
    await time.advance(1);
    expect(result?.ok).toBe(false);
    expect(result?.checks.stuck).toMatchObject({ ok: false, error: "timed out after 3000 ms" });
    expect(result?.checks.quick).toMatchObject({ ok: true });
    expect(time.pending()).toBe(0);
  });

  it("is the platform's: /readyz times out a module's stuck check when the app's sleeper says so", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const time = manualTime("2030-01-01T08:00:00Z");
    const hanging = { name: "hanging", version: "1.0.0", health: [stuck] } satisfies ModuleDef;
    const { app } = createPlatform({
      modules: [system(), hanging],
      migrations: MIGRATIONS,
      migration_tables: MIGRATION_TABLES,
      sleeper: time.sleeper,
    });
    const answered = app.request("/readyz", {}, env);
    // Every other check answers on real I/O and ends its sleep; the stuck one's is left.
    await settled(() => time.pending() === 1);
    await time.advance(3_000);
    const res = await answered;
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.checks.stuck).toMatchObject({ ok: false, error: "timed out after 3000 ms" });
    expect(body.checks.d1).toMatchObject({ ok: true });
    vi.restoreAllMocks();
  });
});
