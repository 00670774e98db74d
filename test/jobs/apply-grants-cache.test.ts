// "The isolate that made a role change sees it at once" (docs/identity.md) holds for the
// roles the `tenants/apply-grants` job changes too: a member signed in before the run, whose
// roles this isolate cached, holds the module's new permission on the next request here,
// with no wait for the user cache's 10 s. The clock is a manual one that never moves, so
// only an eviction can make the change visible.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { identity } from "../../src/modules/identity";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { testApp } from "../helpers";
import { callerOf, PASSWORD } from "../identity/helpers";

/** A module deployed after the tenant was created, granting members its read permission. */
const latecomer: ModuleDef = {
  name: "latecomer",
  version: "1.0.0",
  permissions: ["latecomer.thing.read"],
  grants: { member: ["latecomer.thing.read"] },
};

describe("tenants/apply-grants in the isolate that ran it", () => {
  afterEach(() => vi.restoreAllMocks());

  it("a signed-in member holds the new grant on the next request, not 10 s later", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const clock = manualClock("2031-04-01T00:00:00.000Z");
    // Before the deploy: the tenant's member role is made without the latecomer's grant.
    const oldDeploy = callerOf(testApp([system(), tenants(), identity()], {}, MIGRATIONS, clock).fetch);
    // After it: the same isolate (and so the same caches), the latecomer registered.
    const newDeploy = callerOf(testApp([system(), tenants(), identity(), latecomer], {}, MIGRATIONS, clock).fetch);

    const slug = `late-${crypto.randomUUID().slice(0, 8)}`;
    const created = await oldDeploy("/api/v1/platform/tenants", {
      token: env.PLATFORM_ROOT_KEY,
      body: { slug, name: slug },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const email = "member@example.com";
    const registered = await oldDeploy("/api/v1/auth/register", {
      tenant: slug,
      body: { email, password: PASSWORD, name: "M" },
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    const login = await oldDeploy("/api/v1/auth/login", { tenant: slug, body: { email, password: PASSWORD } });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const token = String(login.body.access_token);

    // This isolate now caches the member's roles and what they grant.
    const me = await newDeploy("/api/v1/me", { token });
    expect(me.status).toBe(200);
    expect(me.body.permissions).not.toContain("latecomer.thing.read");

    const run = await newDeploy("/api/v1/platform/jobs/tenants/apply-grants/run", {
      method: "POST",
      token: env.PLATFORM_ROOT_KEY,
    });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.outcome).toBe("ok");

    // The clock has not moved: the cache's bound has not passed, so this is the eviction's doing.
    const again = await newDeploy("/api/v1/me", { token });
    expect(again.status).toBe(200);
    expect(again.body.permissions).toContain("latecomer.thing.read");
  });
});
