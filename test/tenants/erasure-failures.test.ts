// An erasure that keeps failing must be visible where an operator chasing its deadline looks:
// `GET /api/v1/platform/tenants/{id}` (and `plinth tenants get`). Before, the view said only
// `deleting` and the steps done, the same after one try as after a thousand; when the job last
// tried it, how many tries failed and why were in the log alone.
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { type Clock, isoNow, manualClock } from "../../src/kernel/clock";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules as registered } from "../../src/modules";
import { ERASURE_GRACE_MS } from "../../src/modules/tenants/erasure-job";
import { call, newTenant, rootKey } from "../identity/helpers";
import { eraseUntil } from "./helpers";

// Each run needs a later fire time than the last (its lease refuses an older one).
let minutes = 0;
let last: Clock | undefined;
const nextMinute = () => {
  last = manualClock(new Date(Date.now() + ERASURE_GRACE_MS + (1_000 + ++minutes) * 60_000));
  return last;
};

const SECRET_PARAM = "s3cret-bound-value";

const platformView = async (id: string) => {
  const res = await call(`/api/v1/platform/tenants/${id}`, { token: rootKey() });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};

describe("platform view of a tenant's erasure that keeps failing", () => {
  it("shows when it was last tried, how many tries failed, the step and the error (a query's values left out)", async () => {
    const tenant = await newTenant("failing-erasure");
    expect(await platformView(tenant.id)).toMatchObject({
      erasure_tried_at: null,
      erasure_failures: 0,
      erasure_failed_step: null,
      erasure_error: null,
    });
    const deleted = await call(`/api/v1/platform/tenants/${tenant.id}`, { method: "DELETE", token: rootKey() });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(202);

    let tries = 0;
    const broken: ModuleDef = {
      name: "broken",
      version: "1.0.0",
      erasure: {
        // A failed query: drizzle's error carries the statement and its bound values.
        erase: async (tenantId) => {
          if (tenantId !== tenant.id) return;
          tries++;
          await drizzle(env.DB).run(sql`select * from no_such_table where v = ${SECRET_PARAM}`);
        },
      },
    };
    const modules = [...registered, broken];

    await eraseUntil(async () => tries >= 1, nextMinute, modules);
    const first = await platformView(tenant.id);
    expect(first).toMatchObject({
      status: "deleting",
      erasure_done: ["keys"],
      erasure_tried_at: last && isoNow(last),
      // Every try counted: a failing run is retried by the scheduler (the job's retry), each try a failure.
      erasure_failures: tries,
      erasure_failed_step: "module:broken",
    });
    // The statement and, from its cause, what the database said: enough to find the fix.
    expect(first.erasure_error).toMatch(/^Error: Failed query: select \* from no_such_table where v = \?/);
    expect(first.erasure_error).toContain("no such table: no_such_table");
    expect(JSON.stringify(first)).not.toContain(SECRET_PARAM);

    await eraseUntil(async () => tries >= 2, nextMinute, modules);
    const second = await platformView(tenant.id);
    expect(second).toMatchObject({
      erasure_tried_at: last && isoNow(last),
      erasure_failures: tries,
      erasure_failed_step: "module:broken",
    });

    // The list shows the same, for a look over every tenant being erased.
    // (The cursor: an id just before the tenant's, so the page starts at it however many tenants the D1 holds.)
    const before = `${tenant.id.slice(0, -6)}000000`;
    const listed = await call(`/api/v1/platform/tenants?limit=1&cursor=${before}`, { token: rootKey() });
    expect(listed.body.items).toMatchObject([
      { id: tenant.id, erasure_failures: tries, erasure_error: first.erasure_error },
    ]);

    // Once the cause is gone the erasure ends and the tenant with it.
    await eraseUntil(
      async () => (await call(`/api/v1/platform/tenants/${tenant.id}`, { token: rootKey() })).status === 404,
      nextMinute,
    );
  });
});
