// `plinth modules list` prints each route as a client calls it: the scaffold's root routes
// ("/" in routes.ts, as `plinth new module orders --aggregate order` writes) are served at
// /api/v1/orders, and /api/v1/orders/ answers 404. Path parameters are spelled as the docs and
// the OpenAPI document spell them, `{id}`, not as Hono's router does (`:id`).
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { routesOf } from "../../scripts/lib/registry.mjs";

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

  it('prints a root route of a module mounted at /api/v1 itself (base_path "") as /api/v1', () => {
    const routes = new Hono().get("/", ok).get("/things", ok);
    expect(routesOf({ name: "x", base_path: "", routes })).toEqual(["GET /api/v1", "GET /api/v1/things"]);
  });
});
