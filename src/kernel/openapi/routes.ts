import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { withCommonResponses } from "./common-responses";
import { DOCS_CSS, DOCS_HTML } from "./docs-page";
import { DOCS_JS } from "./docs-script";
import { ProblemSchema } from "./router";

/** The docs page runs its own script and style from this origin, nothing else. */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Adds `/openapi.json` (OpenAPI 3.1, generated from every route declared with
 * `createRoute`, kernel and modules alike, plus the common problem responses
 * the kernel gives on each operation: see `common-responses.ts`) and the
 * `/docs` reference page. Call after all routes are mounted.
 */
export function mountOpenApi(app: OpenAPIHono<AppEnv>, version: string): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key (`plk_…`), a JWT access token, or on /api/v1/platform the platform root key.",
  });
  // The routes of one's own account (`access: "user"`): a user's access token only, an API key
  // answered 403 before anything else of the request is read.
  app.openAPIRegistry.registerComponent("securitySchemes", "user", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "A signed-in user's JWT access token (from /api/v1/auth/login); an API key is refused with 403 `forbidden`.",
  });
  // The common problem responses refer to it, whichever routes declare it themselves.
  app.openAPIRegistry.register("Problem", ProblemSchema);
  // Not doc31(): its catch would send a generation error's internals as the body; here it
  // reaches onError and leaves as `internal`.
  app.get("/openapi.json", (c) =>
    c.json(
      withCommonResponses(
        app.getOpenAPI31Document({
          openapi: "3.1.0",
          info: {
            title: "plinth API",
            version,
            description: "Multi-tenant SaaS platform runtime for Cloudflare Workers. Errors are RFC 9457 problem+json.",
          },
          servers: [{ url: new URL(c.req.url).origin }],
          security: [{ bearer: [] }],
        }),
      ),
    ),
  );
  const page = (body: string, type: string) => () =>
    new Response(body, {
      headers: { "Content-Type": type, "Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache" },
    });
  app.get("/docs", page(DOCS_HTML, "text/html; charset=utf-8"));
  app.get("/docs/app.js", page(DOCS_JS, "text/javascript; charset=utf-8"));
  app.get("/docs/app.css", page(DOCS_CSS, "text/css; charset=utf-8"));
}
