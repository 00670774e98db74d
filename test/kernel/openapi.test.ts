import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { fieldPath } from "../../src/kernel/errors";
import { notesModule } from "../fixtures";
import { testApp } from "../helpers";

type Operation = { operationId?: string; summary?: string; security?: unknown[]; responses?: object };
interface Doc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, unknown>; schemas?: Record<string, unknown> };
}

describe("OpenAPI", () => {
  it("serves an OpenAPI 3.1 document of the kernel and module routes", async () => {
    const res = await SELF.fetch("http://plinth.test/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("plinth API");
    const paths = Object.keys(doc.paths);
    for (const path of [
      "/healthz",
      "/readyz",
      "/api/v1/system/info",
      "/.well-known/jwks.json",
      "/api/v1/platform/tenants",
      "/api/v1/platform/tenants/{id}",
      "/api/v1/auth/login",
      "/api/v1/me",
      "/api/v1/users/{id}",
      "/api/v1/admin/api-keys/{id}",
    ]) {
      expect(paths).toContain(path);
    }
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("gives every operation a unique operationId, a summary, its security and responses", async () => {
    const { fetch } = testApp([notesModule()]);
    const res = await fetch("/openapi.json");
    const doc = (await res.json()) as Doc;
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.operationId, where).toBeTruthy();
        expect(ids.has(op.operationId ?? ""), `${where} duplicates an operationId`).toBe(false);
        ids.add(op.operationId ?? "");
        expect(op.summary, where).toBeTruthy();
        expect(op.responses, where).toBeTruthy();
      }
    }
    expect(doc.paths["/api/v1/notes/notes"]?.post?.operationId).toBe("createNote");
    expect(doc.components?.schemas?.Problem).toBeTruthy();
  });

  it("says in the Problem schema how an error's path is written, as fieldPath writes it", async () => {
    const doc = (await (await SELF.fetch("http://plinth.test/openapi.json")).json()) as Doc;
    const problem = doc.components?.schemas?.Problem as {
      properties: { errors: { items: { properties: { path: { description?: string; example?: string } } } } };
    };
    const path = problem.properties.errors.items.properties.path;
    // A client reading the document alone can tell one key holding a dot from two keys.
    const bracketed = fieldPath(["body", "rate_limits", "tickets.open", "limit"]);
    expect(path.example).toBe(bracketed);
    expect(path.description).toContain(bracketed);
    expect(path.description).toContain(fieldPath(["body", "permissions", 2]));
    expect(path.description).toMatch(/JSON string in brackets/);
  });

  it("serves the interactive reference page and its same-origin assets", async () => {
    const page = await SELF.fetch("http://plinth.test/docs");
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toContain('src="/docs/app.js"');
    expect(html).toContain('href="/docs/app.css"');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/https?:\/\//);
    const js = await SELF.fetch("http://plinth.test/docs/app.js");
    expect(js.headers.get("content-type")).toContain("javascript");
    const script = await js.text();
    expect(script).toContain("/openapi.json");
    expect(script).not.toMatch(/innerHTML\s*=/);
    const css = await SELF.fetch("http://plinth.test/docs/app.css");
    expect(css.headers.get("content-type")).toContain("text/css");
  });
});
