import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { newSigningKeySet } from "../../scripts/jwt-keys.mjs";
import { createPlatform } from "../../src/app";
import { MIGRATIONS } from "../../src/generated/migrations";
import { modules } from "../../src/modules";

const platform = createPlatform({ modules, migrations: MIGRATIONS });
// The document only needs a config that parses: every binding the platform requires, none of them called.
const env = {
  ENVIRONMENT: "test",
  LOG_LEVEL: "warn",
  JWT_SIGNING_KEYS: newSigningKeySet(),
  ...Object.fromEntries(Object.keys(platform.needs.bindings).map((name) => [name, {}])),
};

type Operation = {
  operationId?: string;
  summary?: string;
  security?: unknown;
  parameters?: { in: string; name: string }[];
  responses?: Record<string, { description?: string; headers?: Record<string, { required?: boolean }> }>;
};

async function document(): Promise<{
  paths: Record<string, Record<string, Operation>>;
  components?: { headers?: Record<string, { required?: boolean }> };
}> {
  const res = await platform.app.request("http://plinth.test/openapi.json", {}, env);
  expect(res.status).toBe(200);
  return res.json();
}

describe("the OpenAPI document of the registered modules", () => {
  it("is valid OpenAPI 3.1 by the official JSON schema", async () => {
    const validator = new Validator();
    const result = await validator.validate(await document());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("the validator is not a rubber stamp: it refuses a document without info", async () => {
    const { info: _info, ...broken } = (await document()) as Record<string, unknown>;
    const result = await new Validator().validate(broken);
    expect(result.valid).toBe(false);
  });

  it("declares every operation's summary, operationId, security and path parameters", async () => {
    const doc = await document();
    const problems: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        if (!op.summary) problems.push(`${where}: no summary`);
        if (!op.operationId) problems.push(`${where}: no operationId`);
        if (!Array.isArray(op.security)) problems.push(`${where}: no security`);
        for (const name of params) {
          if (!op.parameters?.some((p) => p.in === "path" && p.name === name)) {
            problems.push(`${where}: path parameter ${name} not declared`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("puts the SSO sign-in's 409 (a mapped role is gone) on the callback, which answers it, not on the start", async () => {
    // A client generated from the document handles the 409 where it comes: the callback provisions.
    const { paths } = await document();
    expect(Object.keys(paths["/api/v1/auth/sso/callback"]?.get?.responses ?? {})).toContain("409");
    expect(Object.keys(paths["/api/v1/auth/sso/start"]?.get?.responses ?? {})).not.toContain("409");
  });

  it("documents the kernel's common problems on every operation that can answer them", async () => {
    const { paths } = await document();
    const statuses = (path: string, method: string) => Object.keys(paths[path]?.[method]?.responses ?? {});
    // The gaps a validating proxy found in real traffic before the kernel added them.
    expect(statuses("/api/v1/platform/tenants", "post")).toEqual(expect.arrayContaining(["400", "413", "415"]));
    expect(statuses("/api/v1/admin/api-keys", "get")).toEqual(expect.arrayContaining(["401", "403"]));
    expect(statuses("/api/v1/blog/posts/{id}", "delete")).toEqual(expect.arrayContaining(["412", "429"]));
    // A status the module declared keeps the module's words first, then the kernel's codes for it.
    expect(paths["/api/v1/blog/posts"]?.post?.responses?.["403"]?.description).toMatch(
      /^missing blog\.post\.create\n\nAlso, from the platform:\n`forbidden`/,
    );
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(op.responses?.["500"], `${method.toUpperCase()} ${path}`).toBeDefined();
      }
    }
  });

  describe("declares the headers plinth answers with, so generated clients see them", () => {
    type Found = { where: string; status: string; headers: Record<string, { required?: boolean }> };
    type Header = { required?: boolean; $ref?: string };
    // A header declared once in components.headers and referenced, as the kernel's are.
    const resolved = (doc: { components?: { headers?: Record<string, Header> } }, headers: Record<string, Header>) =>
      Object.fromEntries(
        Object.entries(headers).map(([name, h]) => [
          name,
          h.$ref ? (doc.components?.headers?.[h.$ref.replace("#/components/headers/", "")] ?? {}) : h,
        ]),
      );
    const answers = async (): Promise<{ doc: Awaited<ReturnType<typeof document>>; all: Found[] }> => {
      const doc = await document();
      const all = Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.entries(item).flatMap(([method, op]) =>
          Object.entries(op.responses ?? {}).map(([status, r]) => ({
            where: `${method.toUpperCase()} ${path} ${status}`,
            status,
            headers: resolved(doc, r.headers ?? {}),
          })),
        ),
      );
      return { doc, all };
    };

    it("WWW-Authenticate on every 401, Retry-After on 429 and 503, Accept-Post/-Patch on 415, RateLimit under /api/v1", async () => {
      const { all } = await answers();
      const missing = all.flatMap(({ where, status, headers }) => [
        ...(status === "401" && !headers["WWW-Authenticate"]?.required ? [`${where}: WWW-Authenticate`] : []),
        ...((status === "429" || status === "503") && !headers["Retry-After"] ? [`${where}: Retry-After`] : []),
        ...(status === "415" && where.startsWith("POST ") && !headers["Accept-Post"]?.required
          ? [`${where}: Accept-Post`]
          : []),
        ...(status === "415" && where.startsWith("PATCH ") && !headers["Accept-Patch"]?.required
          ? [`${where}: Accept-Patch`]
          : []),
        ...(where.includes(" /api/v1/") && !(headers.RateLimit && headers["RateLimit-Policy"])
          ? [`${where}: RateLimit`]
          : []),
      ]);
      expect(missing).toEqual([]);
      // Never 0: the limiter rounds a wait up to at least a second and the 503s say 5 or 30, and a
      // client generated from a schema that allows 0 may retry at once, in a loop.
      const retryAfter = all.flatMap(({ headers }) => {
        const h = headers["Retry-After"] as { schema?: { minimum?: number } } | undefined;
        return h ? [h.schema?.minimum] : [];
      });
      expect(new Set(retryAfter)).toEqual(new Set([1]));
    });

    // A write whose If-Match compares a tag that is not a version: a file's ETag is R2's, of bytes that
    // never change, so its DELETE takes If-Match (the file the client saw) but leaves no next tag to send.
    const ETAG_NOT_A_VERSION = new Set(["DELETE /api/v1/files/{id} 204"]);
    it("ETag on every success of a write that takes If-Match, and on the GET of its resource", async () => {
      const { doc } = await answers();
      const missing: string[] = [];
      for (const [path, item] of Object.entries(doc.paths)) {
        const conditional = Object.entries(item).filter(([, op]) =>
          op.parameters?.some((p) => p.in === "header" && p.name.toLowerCase() === "if-match"),
        );
        if (conditional.length === 0) continue;
        const read = item.get ? [["get", item.get] as const] : [];
        for (const [method, op] of [...conditional, ...read]) {
          for (const [status, r] of Object.entries(op.responses ?? {})) {
            const answer = `${method.toUpperCase()} ${path} ${status}`;
            if (status.startsWith("2") && !r.headers?.ETag?.required && !ETAG_NOT_A_VERSION.has(answer))
              missing.push(answer);
          }
        }
      }
      expect(missing).toEqual([]);
    });

    // Where a create's resource is read when it is not at `<create path>/{…}`: a registered user at
    // its id, a two-factor enrolment (one per user) at the path that started it, a tenant's
    // recovery key where the tenant's other keys are read (with the key itself: the root key lists none).
    const READ_ELSEWHERE: Record<string, string> = {
      "/api/v1/auth/register": "/api/v1/users/{id}",
      "/api/v1/me/two-factor": "/api/v1/me/two-factor",
      "/api/v1/platform/tenants/{id}/admin-keys": "/api/v1/admin/api-keys/{id}",
    };
    it("Location on a 201 wherever a GET of the created resource exists, and only for a resource with a path", async () => {
      const { doc } = await answers();
      const wrong: string[] = [];
      for (const [path, item] of Object.entries(doc.paths)) {
        const created = item.post?.responses?.["201"];
        if (!created) continue;
        const itemPath =
          READ_ELSEWHERE[path] ??
          Object.keys(doc.paths).find((p) => p.startsWith(`${path}/`) && /^\{[^/}]+\}$/.test(p.slice(path.length + 1)));
        const readable = itemPath !== undefined && doc.paths[itemPath]?.get !== undefined;
        const declared = created.headers?.Location?.required === true;
        if (readable && !declared)
          wrong.push(`POST ${path}: no Location, though GET ${itemPath} reads what it creates`);
        // An invitation has no GET, but its path is where DELETE revokes it: Location names it still.
        if (declared && itemPath === undefined)
          wrong.push(`POST ${path}: Location, though what it creates has no path`);
      }
      expect(wrong).toEqual([]);
    });
  });
});
