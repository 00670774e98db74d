// A module mounted at /api/v1 itself (`base_path: ""`) or at the root (`root_routes`) shares its
// paths with the kernel's own routes and with every other such module. Hono answers a request with
// the first route mounted that matches: the kernel's routes come before every module's (so a
// module's `.all("/healthz")` answered POST /healthz while its GET never ran), and /openapi.json
// and /docs after them (so a module's GET /docs took the reference page). Each is refused when the
// platform is built, naming the module, its route, the kernel's and the method.
import { describe, expect, it } from "vitest";
import { ModuleRegistryError } from "../../src/kernel/modules/registry";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { createRouter } from "../../src/kernel/openapi/router";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";

/** A help desk at /api/v1 itself, answering every method of its paths with `.all()`. */
const desk = (
  routes = createRouter().all("/desk", (c) => c.json({ by: "desk", method: c.req.method })),
): ModuleDef => ({
  name: "desk",
  version: "1.0.0",
  base_path: "",
  routes,
});

function refusal(defs: ModuleDef[]): string[] {
  try {
    testApp(defs);
  } catch (error) {
    expect(error).toBeInstanceOf(ModuleRegistryError);
    return (error as ModuleRegistryError).problems.map((p) => `${p.module}: ${p.problem}`);
  }
  throw new Error("expected the platform to refuse these modules");
}

describe('a module with base_path "" and an .all() route', () => {
  it("is served at /api/v1/<path> for every method, and leaves the kernel's routes and identity's /me theirs", async () => {
    const { fetch } = testApp([...modules, desk()]);
    for (const method of ["GET", "POST", "PUT", "DELETE"]) {
      const res = await fetch("http://plinth.test/api/v1/desk", { method });
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { by: "desk", method } });
    }
    expect(await (await fetch("/healthz")).json()).toEqual({ status: "ok" });
    expect((await fetch("/metrics")).headers.get("content-type")).toMatch(/^text\/plain/);
    // identity's /me: a caller without a credential is refused by it, not answered by the desk.
    expect((await fetch("/api/v1/me")).status).toBe(401);
    expect((await fetch("/openapi.json")).status).toBe(200);
  });

  it("is refused at another module's path: identity's GET and DELETE /api/v1/me", () => {
    const me = createRouter().all("/me", (c) => c.json({ by: "desk" }));
    const clash = (method: string) =>
      `desk: route "ALL /api/v1/me" and route "${method} /api/v1/me" of module "identity" both answer ${method} /api/v1/me: only the one mounted first would (an .all() route answers every method; one module owns each method of a path)`;
    expect(refusal([...modules, desk(me)])).toEqual([clash("GET"), clash("DELETE")]);
  });

  it("is refused at a kernel route's path: the kernel's answers first, so the module's GET would never run", () => {
    const jobs = createRouter().all("/platform/jobs", (c) => c.json({ by: "desk" }));
    expect(refusal([...modules, desk(jobs)])).toEqual([
      'desk: route "ALL /api/v1/platform/jobs" is never reached by GET: "GET /api/v1/platform/jobs" of the kernel, mounted before it, answers every GET request it would (use another path)',
    ]);
  });
});

describe('a module with base_path "" and a catch-all .all("/*")', () => {
  const tickets: ModuleDef = {
    name: "tickets",
    version: "1.0.0",
    routes: createRouter()
      .get("/", (c) => c.json({ by: "tickets" }))
      .post("/", (c) => c.json({ by: "tickets" })),
  };
  const catchAll = () => desk(createRouter().all("/*", (c) => c.json({ by: "desk" })));

  it("is refused mounted before another module: it would answer every request of that module's routes", () => {
    // Hono's /api/v1/* answers /api/v1/tickets too: the tickets module would never be reached.
    const never = (method: string) =>
      `tickets: route "${method} /api/v1/tickets" is never reached: "ALL /api/v1/*" of module "desk", mounted before it, answers every request it would (declare the more specific route first, or use another path)`;
    expect(refusal([catchAll(), tickets])).toEqual([never("GET"), never("POST")]);
  });

  it("mounted after the others, answers only what no route does; the kernel's and the modules' routes stay theirs", async () => {
    const { fetch } = testApp([...modules, tickets, catchAll()]);
    expect(await (await fetch("/api/v1/tickets")).json()).toEqual({ by: "tickets" });
    expect(await (await fetch("/api/v1/nothing/here")).json()).toEqual({ by: "desk" });
    expect((await fetch("/api/v1/me")).status).toBe(401);
    expect(await (await fetch("/healthz")).json()).toEqual({ status: "ok" });
  });
});

describe("a module's root_routes at the kernel's own paths", () => {
  const rooted = (root_routes: ModuleDef["root_routes"]): ModuleDef => ({
    name: "rooted",
    version: "1.0.0",
    root_routes,
  });

  it("refuses .all('/healthz') and .all('/metrics'): the kernel's GET answers first", () => {
    const root = createRouter()
      .all("/healthz", (c) => c.json({ by: "rooted" }))
      .all("/metrics", (c) => c.json({ by: "rooted" }));
    expect(refusal([...modules, rooted(root)])).toEqual([
      'rooted: route "ALL /healthz" is never reached by GET: "GET /healthz" of the kernel, mounted before it, answers every GET request it would (use another path)',
      'rooted: route "ALL /metrics" is never reached by GET: "GET /metrics" of the kernel, mounted before it, answers every GET request it would (use another path)',
    ]);
  });

  it("refuses a GET /docs or an .all('/openapi.json'), which would take the kernel's reference page and document", () => {
    const root = createRouter()
      .get("/docs", (c) => c.json({ by: "rooted" }))
      .all("/openapi.json", (c) => c.json({ by: "rooted" }));
    expect(refusal([...modules, rooted(root)])).toEqual([
      `rooted: route "GET /docs" answers every GET request of the kernel's "GET /docs", mounted after the modules' routes, so the kernel's would never be reached (use another path)`,
      `rooted: route "ALL /openapi.json" answers every GET request of the kernel's "GET /openapi.json", mounted after the modules' routes, so the kernel's would never be reached (use another path)`,
    ]);
  });

  it("refuses a catch-all .all('/*'), which would take /openapi.json and every /docs page", () => {
    const root = createRouter().all("/*", (c) => c.json({ by: "rooted" }));
    const takes = (path: string) =>
      `rooted: route "ALL /*" answers every GET request of the kernel's "GET ${path}", mounted after the modules' routes, so the kernel's would never be reached (use another path)`;
    expect(refusal([...modules, rooted(root)])).toEqual(
      ["/openapi.json", "/docs", "/docs/app.js", "/docs/app.css"].map(takes),
    );
  });
});
