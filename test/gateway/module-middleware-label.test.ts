// A request is labelled (its log line's `module` and `route`, the metrics' `route`, the module
// whose policies `enforce` lets it charge) with the route that answered it, whoever else's
// middleware ran on the way. Under a shared prefix one module's middleware runs on another's
// routes: a GET-only middleware (`.get("/*", mw)`, which Hono lists as a GET route) on a module's
// `.all()` route labelled the request the middleware's module's, with its wildcard for the route,
// since the label took the last route with a method. And of two routes matching one request the
// first mounted answers, while the label named the last.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { createRouter } from "../../src/kernel/openapi/router";
import { modules } from "../../src/modules";
import { expectProblem, testApp } from "../helpers";
import { infoLines } from "../log-lines";

/** Middleware on every GET under /api/v1/shared: it marks the response, and serves nothing itself. */
const guard: ModuleDef = {
  name: "guard",
  version: "1.0.0",
  base_path: "/shared",
  routes: createRouter()
    .get("/*", async (c, next) => {
      await next();
      c.header("x-guard", "1");
    })
    .use("*", async (c, next) => {
      await next();
      c.header("x-guard-all", "1");
    }),
};

/** A desk under the guard's prefix: an `.all()` endpoint and a GET one. */
const desk: ModuleDef = {
  name: "desk",
  version: "1.0.0",
  depends_on: { guard: "^1.0.0" },
  base_path: "/shared/desk",
  routes: createRouter()
    .all("/hello", (c) => c.json({ by: "desk" }))
    .get("/board", (c) => c.json({ by: "desk" })),
};

/** Two modules whose routes both match /api/v1/pair/probe/x: "base", mounted first, answers it. */
const base: ModuleDef = {
  name: "base",
  version: "1.0.0",
  base_path: "/pair",
  routes: createRouter().get("/:a/x", (c) => c.json({ by: "base" })),
};
const extension: ModuleDef = {
  name: "extension",
  version: "1.0.0",
  depends_on: { base: "^1.0.0" },
  base_path: "/pair",
  routes: createRouter().get("/probe/:b", (c) => c.json({ by: "extension" })),
};

/** The value of one sample line of Prometheus text, or 0 when the series is absent. */
function sample(text: string, route: string): number {
  const series = `plinth_http_requests_total{route="${route}",method="GET",status="2xx",tenant="none"} `;
  const line = text.split("\n").find((l) => l.startsWith(series));
  return line ? Number(line.slice(series.length)) : 0;
}

describe("the label of a request under another module's middleware", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is the answering route's module and pattern, in the log line and in /metrics", async () => {
    const { fetch } = testApp([...modules, extension, desk, base, guard], { LOG_LEVEL: "info" });
    const scrape = async () => (await fetch("/metrics")).text();
    const routes = ["/api/v1/shared/desk/hello", "/api/v1/shared/desk/board", "/api/v1/pair/:a/x", "/api/v1/shared/*"];
    const before = await scrape();
    const lines = await infoLines("request", async () => {
      for (const [path, id] of [
        ["/api/v1/shared/desk/hello", "req-hello"],
        ["/api/v1/shared/desk/board", "req-board"],
        ["/api/v1/pair/probe/x", "req-pair"],
      ] as const) {
        const res = await fetch(path, { headers: { "x-request-id": id } });
        expect(res.status).toBe(200);
        if (id !== "req-pair") {
          // The guard's middleware ran on the desk's routes: the request passed through it.
          expect([res.headers.get("x-guard"), res.headers.get("x-guard-all")]).toEqual(["1", "1"]);
          expect(await res.json()).toEqual({ by: "desk" });
        } else expect(await res.json()).toEqual({ by: "base" });
      }
    });
    const byId = (id: string) => lines.find((l) => l.request_id === id);
    expect([byId("req-hello"), byId("req-board"), byId("req-pair")]).toMatchObject([
      { module: "desk", route: "/api/v1/shared/desk/hello" },
      { module: "desk", route: "/api/v1/shared/desk/board" },
      { module: "base", route: "/api/v1/pair/:a/x" },
    ]);
    const after = await scrape();
    expect(routes.map((r) => sample(after, r) - sample(before, r))).toEqual([1, 1, 1, 0]);
    expect(sample(after, "/api/v1/pair/probe/:b") - sample(before, "/api/v1/pair/probe/:b")).toBe(0);
  });
});

describe("a path under a module's GET-only middleware that no route serves", () => {
  it("is 404, not 405 with Allow: GET, HEAD; a path a route serves keeps its 405", async () => {
    // The 405's Allow was built from every route with a method, the guard's `.get("/*", mw)` among
    // them, so a GET to a path nothing serves was told GET is not allowed there, and to use GET.
    const { fetch } = testApp([...modules, desk, guard]);
    for (const method of ["GET", "POST"]) {
      const res = await fetch("http://plinth.test/api/v1/shared/nowhere", { method });
      await expectProblem(res, 404, "not_found");
      expect(res.headers.get("allow")).toBeNull();
    }
    const post = await fetch("http://plinth.test/api/v1/shared/desk/board", { method: "POST" });
    await expectProblem(post, 405, "method_not_allowed");
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });
});
