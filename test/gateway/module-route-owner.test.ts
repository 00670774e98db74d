// A module's route is its module's however the module registers it: `observe` names the module
// of the matched route (the request's log line, and `enforce`'s check that a route charges only
// its own module's policies). Before, the route map skipped every `.all()` route (taken for
// middleware), so a module's `.all()` endpoint was logged with no module and route null (the
// metrics' "unmatched"), and charged another module's policy unrefused.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { principalOf } from "../../src/kernel/auth/guards";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { createRouter } from "../../src/kernel/openapi/router";
import { enforce } from "../../src/kernel/ratelimit/limiter";
import type { Policy } from "../../src/kernel/ratelimit/policies";
import { modules } from "../../src/modules";
import { expectProblem, testApp } from "../helpers";
import { callerOf, newTenant, newUser } from "../identity/helpers";
import { infoLines } from "../log-lines";
import { parseList, TICKETS_OPEN } from "./helpers";

/** The module whose budget the desk reaches for: each user opens at most 3 tickets an hour. */
const tickets: ModuleDef = {
  name: "tickets",
  version: "1.0.0",
  rate_limits: { "tickets.open": TICKETS_OPEN },
  routes: createRouter().post("/", async (c) => {
    await enforce(c, "tickets.open", principalOf(c, "user").id);
    return c.json({ opened: true }, 201);
  }),
};

/** A help desk whose endpoints are written with `.all()`, one of them in a nested router. */
const desk: ModuleDef = {
  name: "desk",
  version: "1.0.0",
  routes: createRouter()
    .all("/hello", (c) => c.json({ hello: true }))
    // An endpoint under a wildcard (it answers; it takes no `next`): the desk's, not middleware.
    .all("/raw/*", (c) => c.json({ raw: true }))
    .all("/ticket", async (c) => {
      await enforce(c, "tickets.open", principalOf(c, "user").id);
      return c.json({ opened: true }, 201);
    })
    .route(
      "/nested",
      createRouter().all("/hello", (c) => c.json({ hello: true })),
    ),
};

/** A kiosk with middleware on all its routes (`.use("*")`, listed by Hono as ALL like `.all()`) and one endpoint. */
const kiosk: ModuleDef = {
  name: "kiosk",
  version: "1.0.0",
  routes: createRouter()
    .use("*", async (c, next) => {
      await next();
      c.header("x-kiosk", "1");
    })
    .get("/open", (c) => c.json({ open: true })),
};

function platform(logLevel = "warn", extra: Record<string, unknown> = {}) {
  const current = JSON.parse(String(env.RATE_LIMITS)) as Record<string, Partial<Policy>>;
  const { fetch } = testApp([...modules, tickets, desk, kiosk], {
    RATE_LIMITS: JSON.stringify(current),
    LOG_LEVEL: logLevel,
    ...extra,
  });
  return { fetch, call: callerOf((path, init) => fetch(`http://plinth.test${path}`, init)) };
}

describe("a module's route registered with .all()", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is logged with its module and route pattern", async () => {
    const { call } = platform("info");
    const lines = await infoLines("request", async () => {
      expect((await call("/api/v1/desk/hello", { headers: { "x-request-id": "req-all" } })).status).toBe(200);
      expect((await call("/api/v1/desk/nested/hello", { headers: { "x-request-id": "req-nested" } })).status).toBe(200);
      expect((await call("/api/v1/desk/raw/a.txt", { headers: { "x-request-id": "req-raw" } })).status).toBe(200);
      expect((await call("/api/v1/desk/nope", { headers: { "x-request-id": "req-none" } })).status).toBe(404);
    });
    const byId = (id: string) => lines.find((l) => l.request_id === id);
    expect(byId("req-all")).toMatchObject({ module: "desk", route: "/api/v1/desk/hello" });
    expect(byId("req-nested")).toMatchObject({ module: "desk", route: "/api/v1/desk/nested/hello" });
    expect(byId("req-raw")).toMatchObject({ module: "desk", route: "/api/v1/desk/raw/*" });
    // A path no route of the desk serves is still no one's.
    expect(byId("req-none")).toMatchObject({ route: null });
    expect(byId("req-none")?.module).toBeUndefined();
  });

  it('leaves a 404 under a module\'s .use("*") middleware unmatched: no module, route null', async () => {
    // Middleware is no endpoint: a path the kiosk does not serve must not be labelled the kiosk's
    // (nor /api/v1/kiosk/*), in the log or the metrics, or every 404 under it would group there.
    const points: AnalyticsEngineDataPoint[] = [];
    const ANALYTICS = { writeDataPoint: (p: AnalyticsEngineDataPoint) => void points.push(p) };
    const { call } = platform("info", { ANALYTICS });
    const lines = await infoLines("request", async () => {
      expect((await call("/api/v1/kiosk/open", { headers: { "x-request-id": "req-open" } })).status).toBe(200);
      const nope = await call("/api/v1/kiosk/nope", { headers: { "x-request-id": "req-nope" } });
      expect(nope.status).toBe(404);
      expect(nope.headers.get("x-kiosk"), "the kiosk's middleware ran for it").toBe("1");
    });
    const byId = (id: string) => lines.find((l) => l.request_id === id);
    expect(byId("req-open")).toMatchObject({ module: "kiosk", route: "/api/v1/kiosk/open" });
    expect(byId("req-nope")).toMatchObject({ route: null });
    expect(byId("req-nope")?.module).toBeUndefined();
    const routes = points.map((p) => p.blobs?.[0]);
    expect(routes).toEqual(["/api/v1/kiosk/open", "unmatched"]);
  });

  it("is refused another module's policy: 500, nothing counted against the owner's budget", async () => {
    const { fetch, call } = platform();
    const t = await newTenant("desk-all");
    const ada = await newUser(t.slug);
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (let i = 0; i < 4; i++) {
      const res = await fetch("http://plinth.test/api/v1/desk/ticket", {
        method: "POST",
        headers: { authorization: `Bearer ${ada.access_token}` },
      });
      await expectProblem(res, 500, "internal");
    }
    const own = await call("/api/v1/tickets", { method: "POST", token: ada.access_token });
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(parseList(own.headers.get("ratelimit"))["tickets.open"]?.r).toBe(2);
  });
});
