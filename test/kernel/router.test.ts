// The whole app's routes must stay within what Hono's RegExpRouter compiles: one regular
// expression matches a request. A route it cannot compile (for example a static segment
// beside a parameter that has children: `/x/replay` next to `/x/{id}/replay`) makes Hono's
// SmartRouter fall back, silently, to its TrieRouter, which walks a tree on every request
// (about 3% of a PATCH's CPU under the bench when it happened).
import { RegExpRouter } from "hono/router/reg-exp-router";
import { describe, expect, it } from "vitest";
import { createPlatform } from "../../src/app";
import { MIGRATIONS } from "../../src/generated/migrations";
import { modules } from "../../src/modules";

/** Builds a RegExpRouter of `routes` as SmartRouter would; throws UnsupportedPathError naming a route it cannot take. */
function compile(routes: readonly { method: string; path: string }[]): void {
  const router = new RegExpRouter<number>();
  for (const [i, r] of routes.entries()) router.add(r.method, r.path, i);
  // Some routes fail as they are added, others when the first match compiles the expression.
  router.match("GET", "/healthz");
}

describe("the app's router", () => {
  it("compiles every route of every module into Hono's RegExpRouter", () => {
    const { app } = createPlatform({ modules, migrations: MIGRATIONS });
    expect(app.routes.length).toBeGreaterThan(50);
    expect(() => compile(app.routes)).not.toThrow();
  });

  it("and the check fails for a route RegExpRouter cannot take", () => {
    const routes = [
      { method: "POST", path: "/api/v1/x/:id/replay" },
      { method: "POST", path: "/api/v1/x/replay" },
    ];
    expect(() => compile(routes)).toThrow(/\/api\/v1\/x\/replay/);
  });
});
