// `plinth modules list` prints each route as a client calls it: the scaffold's root routes
// ("/" in routes.ts, as `plinth new module orders --aggregate order` writes) are served at
// /api/v1/orders, and /api/v1/orders/ answers 404. Path parameters are spelled as the docs and
// the OpenAPI document spell them, `{id}`, not as Hono's router does (`:id`).
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { routesOf as routesWith } from "../../scripts/lib/registry.mjs";
import { isMiddlewareRoute } from "../../src/kernel/http/route-kind";

/** The routes `plinth modules list` prints, telling middleware as the CLI's bundle does. */
const routesOf = (m: Parameters<typeof routesWith>[0]) => routesWith(m, isMiddlewareRoute);

const ok = () => new Response("ok");

describe("plinth modules list's routes", () => {
  it("prints a module's root route without the trailing slash Hono does not serve", async () => {
    const routes = new Hono().post("/", ok).get("/", ok).get("/:id", ok).post("/:id/approve", ok);
    expect(routesOf({ name: "orders", routes })).toEqual([
      "POST /api/v1/orders",
      "GET /api/v1/orders",
      "GET /api/v1/orders/{id}",
      "POST /api/v1/orders/{id}/approve",
    ]);
    // Served as printed: the module mounted as the kernel mounts it.
    const app = new Hono().route("/api/v1/orders", routes);
    expect((await app.request("/api/v1/orders", { method: "POST" })).status).toBe(200);
    expect((await app.request("/api/v1/orders/", { method: "POST" })).status).toBe(404);
  });

  it("prints a path parameter as the OpenAPI document names it, where the module is mounted too", () => {
    const routes = new Hono().get("/:module/:job/run", ok);
    const root_routes = new Hono().get("/api/v1/things/:id", ok);
    expect(routesOf({ name: "x", base_path: "/x/:tenant", routes, root_routes })).toEqual([
      "GET /api/v1/x/{tenant}/{module}/{job}/run",
      "GET /api/v1/things/{id}",
    ]);
  });

  it("prints an .all() endpoint as ALL, and no middleware, whatever its method", () => {
    // Hono lists `.use()` as ALL and `.get("/*", mw)` as GET: the list showed the middleware as a
    // GET route and left the desk's .all() endpoint out.
    const routes = new Hono()
      .use("*", async (_c, next) => next())
      .get("/*", async (_c, next) => next())
      .all("/hello", ok)
      .get("/board", ok);
    expect(routesOf({ name: "desk", routes })).toEqual(["ALL /api/v1/desk/hello", "GET /api/v1/desk/board"]);
  });

  it('prints a root route of a module mounted at /api/v1 itself (base_path "") as /api/v1', () => {
    const routes = new Hono().get("/", ok).get("/things", ok);
    expect(routesOf({ name: "x", base_path: "", routes })).toEqual(["GET /api/v1", "GET /api/v1/things"]);
  });
});
