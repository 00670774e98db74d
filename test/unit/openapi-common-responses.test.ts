import { describe, expect, it } from "vitest";
import {
  type DocumentLike,
  type OperationLike,
  type PathItemLike,
  traitsOf,
  withCommonResponses,
} from "../../src/kernel/openapi/common-responses";

const PROBLEM = { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } };
const ok = { 200: { description: "ok" } };
const bearer = [{ bearer: [] }];
const body = { required: true, content: { "application/json": { schema: { type: "object" } } } };
const idParam = { name: "id", in: "path", required: true };

/** The document after the kernel added its responses, with one operation at `path`. */
function documented(path: string, method: keyof PathItemLike, op: OperationLike, extra: Partial<DocumentLike> = {}) {
  const doc = withCommonResponses({ ...extra, paths: { [path]: { [method]: op } } });
  const responses = doc.paths?.[path]?.[method]?.responses ?? {};
  const statuses = Object.keys(responses).map(Number);
  const description = (status: number) => String((responses[status] as { description?: string }).description);
  return { responses, statuses, description };
}

describe("common problem responses: given an operation's traits, the kernel documents what its request path answers", () => {
  it("a kernel route outside /api/v1 with no input can only fail with 500, and 400 to an If-Match naming tags", () => {
    const { statuses, description } = documented("/healthz", "get", { security: [], responses: ok });
    expect(statuses).toEqual([200, 400, 500]);
    expect(description(400)).toContain("`If-Match` is other than `*`");
    expect(description(500)).toContain("`internal`");
    expect(description(500)).toContain("`config_invalid`");
  });

  it("a platform route taking a body: validation, credentials, Idempotency-Key, body limits and rate limits, but no tenant problems", () => {
    const { statuses, description } = documented("/api/v1/platform/tenants", "post", {
      security: bearer,
      requestBody: body,
      responses: { 201: { description: "created" } },
    });
    expect(statuses).toEqual([201, 400, 401, 403, 409, 413, 415, 422, 429, 500, 503]);
    expect(description(400)).toContain("`validation_failed`");
    expect(description(400)).not.toContain("tenant_required");
    expect(description(403)).toContain("`forbidden`");
    expect(description(403)).not.toContain("tenant_mismatch");
    // The JSON body's charset and bytes (kernel/http/json-charset.ts) are among the reasons.
    expect(description(400)).toContain("not valid UTF-8");
    expect(description(415)).toContain("charset other than UTF-8");
  });

  it("a tenant route with If-Match: tenant problems and 412, and 400 also for a missing tenant", () => {
    const { statuses, description } = documented("/api/v1/blog/posts/{id}", "delete", {
      security: bearer,
      parameters: [idParam, { name: "if-match", in: "header" }],
      responses: { 204: { description: "deleted" } },
    });
    expect(statuses).toEqual([204, 400, 401, 403, 404, 412, 429, 500, 503]);
    expect(description(400)).toContain("`tenant_required`");
    expect(description(403)).toContain("`tenant_mismatch`");
    expect(description(404)).toContain("`tenant_not_found`");
    expect(description(412)).toContain("`version_conflict`");
  });

  it("a public system route still has its Authorization header and X-Tenant checked, but needs no tenant", () => {
    const { statuses, description } = documented("/api/v1/system/info", "get", { security: [], responses: ok });
    expect(statuses).toEqual([200, 400, 401, 403, 404, 429, 500, 503]);
    expect(description(401)).toContain("`Authorization` header was sent");
    expect(description(404)).toContain("`tenant_not_found`");
  });

  it("a status the route declares keeps the route's own response, its description extended with the kernel's codes; a declared range covers its statuses", () => {
    const own = { description: "the slug is taken", content: PROBLEM };
    const { responses, statuses } = documented("/api/v1/blog/posts", "post", {
      security: bearer,
      requestBody: body,
      responses: { 201: { description: "created" }, 403: own, "5XX": { description: "server trouble" } },
    });
    expect(responses[403]).toMatchObject({ content: PROBLEM });
    const description = String((responses[403] as { description: string }).description);
    expect(description.startsWith("the slug is taken\n\nAlso, from the platform:\n")).toBe(true);
    expect(description).toContain("`forbidden`");
    expect(description).toContain("`tenant_mismatch`");
    expect(statuses).not.toContain(500);
    // Kept as declared, with only the RateLimit headers every /api/v1 answer carries.
    expect(responses["5XX"]).toEqual({
      description: "server trouble",
      headers: { RateLimit: expect.any(Object), "RateLimit-Policy": expect.any(Object) },
    });
  });

  it("a GET whose 200 sends no ETag refuses If-Match tags (400); one that sends it declares If-Match and 412 instead; a write or a GET without a 200 neither", () => {
    const untagged = documented("/api/v1/users/{id}", "get", {
      security: bearer,
      parameters: [idParam],
      responses: ok,
    });
    expect(untagged.description(400)).toContain("sends no `ETag`");
    expect(untagged.statuses).not.toContain(412);
    const etag = { 200: { description: "ok", headers: { ETag: { schema: { type: "string" } } } } };
    const tagged = documented("/api/v1/blog/posts/{id}", "get", {
      security: bearer,
      parameters: [idParam],
      responses: etag,
    });
    expect(tagged.description(400)).not.toContain("sends no `ETag`");
    expect(tagged.statuses).toContain(412);
    const write = documented("/api/v1/users/{id}", "delete", {
      security: bearer,
      parameters: [idParam],
      responses: ok,
    });
    expect(write.description(400)).not.toContain("sends no `ETag`");
    const redirect = documented("/api/v1/auth/sso/start", "get", {
      security: [],
      responses: { 302: { description: "to the provider" } },
    });
    expect(redirect.statuses).not.toContain(200);
    expect(redirect.description(400)).not.toContain("sends no `ETag`");
  });

  it("every added response is the Problem schema as application/problem+json; 429 names Retry-After", () => {
    const { responses } = documented("/api/v1/users", "get", { security: bearer, responses: ok });
    for (const [status, response] of Object.entries(responses)) {
      if (status !== "200") expect(response, status).toMatchObject({ content: PROBLEM });
    }
    expect(responses[429]).toMatchObject({ headers: { "Retry-After": { schema: { type: "integer" } } } });
  });

  it("leaves the input document as it was", () => {
    const doc = { paths: { "/api/v1/me": { get: { security: bearer, responses: { ...ok } } } } };
    const before = structuredClone(doc);
    withCommonResponses(doc);
    expect(doc).toEqual(before);
  });
});

describe("traitsOf", () => {
  it("inherits the document's security when the operation declares none; [] and [{}] need no credential", () => {
    const doc: DocumentLike = { security: bearer };
    expect(traitsOf("/api/v1/me", { responses: ok }, doc).secured).toBe(true);
    expect(traitsOf("/api/v1/me", { security: [], responses: ok }, doc).secured).toBe(false);
    expect(traitsOf("/api/v1/me", { security: [{}], responses: ok }, doc).secured).toBe(false);
  });

  it("reads an If-Match header declared through a $ref, in any letter case", () => {
    const doc: DocumentLike = { components: { parameters: { IfMatch: { name: "If-Match", in: "header" } } } };
    const op = { parameters: [{ $ref: "#/components/parameters/IfMatch" }], responses: ok };
    expect(traitsOf("/api/v1/blog/posts/{id}", op, doc)).toMatchObject({ ifMatch: true, validatesInput: true });
  });

  it("tells /api/v1 apart from paths that merely start with the same letters", () => {
    expect(traitsOf("/api/v10/x", { responses: ok }, {})).toMatchObject({ api: false, tenantScoped: false });
    expect(traitsOf("/api/v1/platformer", { responses: ok }, {})).toMatchObject({ tenantScoped: true });
  });

  it("a tenant principal's POST accepts Idempotency-Key, and says what a reused or running key answers", () => {
    const doc: DocumentLike = withCommonResponses({
      paths: {
        "/api/v1/blog/posts": {
          post: { security: bearer, requestBody: body, responses: { 201: { description: "created" } } },
        },
      },
    });
    const op = doc.paths?.["/api/v1/blog/posts"]?.post;
    expect(op?.parameters).toEqual([
      expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false }),
    ]);
    expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(["409", "422"]));
    // Not on a GET, not without a credential; the platform root key's POSTs take it too.
    const get: DocumentLike = withCommonResponses({
      paths: { "/api/v1/blog/posts": { get: { security: bearer, responses: ok } } },
    });
    expect(get.paths?.["/api/v1/blog/posts"]?.get?.parameters).toBeUndefined();
    const platform: DocumentLike = withCommonResponses({
      paths: { "/api/v1/platform/tenants": { post: { security: bearer, requestBody: body, responses: ok } } },
    });
    expect(platform.paths?.["/api/v1/platform/tenants"]?.post?.parameters).toEqual([
      expect.objectContaining({ name: "Idempotency-Key", in: "header" }),
    ]);
    // A POST that needs no credential (login) still takes one, and then the key applies:
    // documented, saying it applies only then.
    const open: DocumentLike = withCommonResponses({
      paths: { "/api/v1/auth/login": { post: { security: [], requestBody: body, responses: ok } } },
    });
    const login = open.paths?.["/api/v1/auth/login"]?.post;
    expect(login?.parameters).toEqual([
      expect.objectContaining({
        name: "Idempotency-Key",
        description: expect.stringMatching(/only when .*credential/),
      }),
    ]);
    expect(JSON.stringify(login?.responses?.["422"])).toMatch(/idempotency_key_reused.*only when .*credential/);
  });
});
