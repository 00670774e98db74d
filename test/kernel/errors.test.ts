import { SELF } from "cloudflare:test";
import { createRoute, z } from "@hono/zod-openapi";
import { sqliteTable, text } from "drizzle-orm/sqlite-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { AppError, missingTable } from "../../src/kernel/errors";
import { createRouter } from "../../src/kernel/openapi/router";
import { readModels } from "../../src/kernel/read-models";
import { notesModule } from "../fixtures";
import { expectProblem, expectSecurityHeaders, testApp } from "../helpers";

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

describe("problem+json for every error", () => {
  afterEach(() => vi.restoreAllMocks());

  it("400 lists every invalid field at once", async () => {
    const { fetch } = testApp([notesModule()]);
    const res = await fetch("/api/v1/notes/notes?dry_run=maybe", json({ title: "" }));
    const body = await expectProblem(res, 400, "validation_failed");
    const paths = (body.errors ?? []).map((e) => e.path).sort();
    // query validation runs first and fails alone; fix it and the body errors all show
    expect(paths).toEqual(["query.dry_run"]);
    const res2 = await fetch("/api/v1/notes/notes", json({ title: "", tags: ["a", 1] }));
    const body2 = await expectProblem(res2, 400, "validation_failed");
    expect((body2.errors ?? []).map((e) => e.path).sort()).toEqual(["body.body", "body.tags.1", "body.title"]);
    for (const e of body2.errors ?? []) expect(e.message.length).toBeGreaterThan(0);
  });

  it("503 with Retry-After for a read on a table a pending migration makes, the table told to the operator in the log only", async () => {
    // A deploy before `plinth db migrate --remote`: every read of the new module failed as a bare 500.
    // POSTs that read: a GET would meet the migrations gate first (migrations-gate.test.ts).
    const ghosts = sqliteTable("ghost_items", { id: text("id").primaryKey() });
    const routes = createRouter()
      .post("/raw", async (c) => c.json(await c.env.DB.prepare("select id from ghost_items").all()))
      .post("/drizzle", async (c) => c.json(await readModels(c.env).select().from(ghosts)));
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
    const { fetch } = testApp([{ name: "ghost", version: "1.0.0", routes }], {}, [...MIGRATIONS, "9999_ghost.sql"]);
    for (const path of ["/api/v1/ghost/raw", "/api/v1/ghost/drizzle"]) {
      const res = await fetch(path, { method: "POST" });
      const body = await expectProblem(res, 503, "unavailable");
      expect(res.headers.get("retry-after")).toBe("5");
      expect(body.detail).toBe("the service's database is being brought up to date; try again shortly");
      expect(JSON.stringify(body)).not.toContain("ghost_items");
    }
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg !== "request");
    expect(logged.map((l) => [l.msg, l.table, l.pending])).toEqual([
      ["read-model table missing: migrations not applied", "ghost_items", ["9999_ghost.sql"]],
      ["read-model table missing: migrations not applied", "ghost_items", ["9999_ghost.sql"]],
    ]);
    expect(String(logged[0]?.hint)).toContain("npx plinth db migrate");
  });

  it("503 calling a missing table the operator's problem, not a rollout, when every migration is applied (the table in the log only)", async () => {
    // A table renamed or dropped by hand: the answer said "being brought up to date; try again
    // shortly" for ever, though `/readyz` and `d1_migrations` said everything was applied.
    const routes = createRouter().get("/raw", async (c) =>
      c.json(await c.env.DB.prepare("select id from lost_items").all()),
    );
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
    const { fetch } = testApp([{ name: "lost", version: "1.0.0", routes }]);
    const res = await fetch("/api/v1/lost/raw");
    const body = await expectProblem(res, 503, "unavailable");
    expect(res.headers.get("retry-after")).toBeNull();
    expect(body.detail).toBe(
      "part of the service's database is missing although it is up to date: an operator must restore it",
    );
    expect(JSON.stringify(body)).not.toContain("lost_items");
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg !== "request");
    expect(logged.map((l) => [l.msg, l.table])).toEqual([
      ["read-model table missing although its migrations are applied", "lost_items"],
    ]);
  });

  it("with READ_MODEL_URL unreachable, a missing table is answered as a rollout, never as the operator's to restore", async () => {
    // Which migrations libSQL has is unknown when it cannot be read, so the answer is the one
    // that asks the client to come back (libSQL's own record is tested against a real database
    // in test/node/migrations-watch-libsql.test.ts). Port 9 on this machine refuses at once,
    // where a hostname would send the test's look to the internet.
    const routes = createRouter().get("/libsql", () => {
      throw new Error("Failed query: select", { cause: new Error("SQLITE_ERROR: no such table: far_items") });
    });
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { fetch } = testApp([{ name: "far", version: "1.0.0", routes }], {
      READ_MODEL_URL: "http://127.0.0.1:9",
    });
    const res = await fetch("/api/v1/far/libsql");
    const body = await expectProblem(res, 503, "unavailable");
    expect(res.headers.get("retry-after")).toBe("5");
    expect(body.detail).toBe("the service's database is being brought up to date; try again shortly");
  });

  it("takes a missing table for a pending migration only from the read-model database, not a Durable Object", () => {
    expect(missingTable(new Error("D1_ERROR: no such table: posts: SQLITE_ERROR"))).toBe("posts");
    // libSQL's, inside drizzle's wrapper.
    const wrapped = new Error("Failed query: select 1", { cause: new Error("SQLITE_ERROR: no such table: posts") });
    expect(missingTable(wrapped)).toBe("posts");
    // An object's own SQLite, as its error crosses RPC: a bug there, not a migration to wait for.
    expect(missingTable(new Error("no such table: outbox: SQLITE_ERROR"))).toBeNull();
    expect(missingTable(new Error("D1_ERROR: no such column: title"))).toBeNull();
  });

  it("428 for a write whose required If-Match is missing, as the document lists it (not 400)", async () => {
    // common-responses gives an operation that declares If-Match required a 428; validation answered 400.
    const put = createRoute({
      method: "put",
      path: "/things/{id}",
      operationId: "putThing",
      summary: "Replace a thing",
      request: { params: z.object({ id: z.string() }), headers: z.object({ "if-match": z.string() }) },
      responses: { 204: { description: "replaced" } },
    });
    const routes = createRouter().openapi(put, (c) => c.body(null, 204));
    const { fetch } = testApp([{ name: "things", version: "1.0.0", routes }]);
    const body = await expectProblem(
      await fetch("/api/v1/things/things/a", { method: "PUT" }),
      428,
      "precondition_required",
    );
    expect(body.detail).toContain("If-Match");
    const res = await fetch("/api/v1/things/things/a", { method: "PUT", headers: { "if-match": '"1"' } });
    expect(res.status).toBe(204);
  });

  it("400 for malformed JSON", async () => {
    const { fetch } = testApp([notesModule()]);
    const res = await fetch("/api/v1/notes/notes", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"title": "x", ',
    });
    await expectProblem(res, 400, "validation_failed");
  });

  it("accepts a valid body", async () => {
    const { fetch } = testApp([notesModule()]);
    const res = await fetch("/api/v1/notes/notes", json({ title: "hello", body: "world" }));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ title: "hello", body: "world" });
    expectSecurityHeaders(res);
  });

  it("404 for an unknown path", async () => {
    const res = await SELF.fetch("http://plinth.test/nope");
    const body = await expectProblem(res, 404, "not_found");
    expect(body.detail).toContain("/nope");
    expectSecurityHeaders(res);
  });

  it("405 with Allow for a known path and another method", async () => {
    const res = await SELF.fetch("http://plinth.test/api/v1/system/info", { method: "DELETE" });
    await expectProblem(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expectSecurityHeaders(res);
  });

  it("405 also for parameterised module routes", async () => {
    const { fetch } = testApp([notesModule()]);
    const res = await fetch("/api/v1/notes/notes", { method: "GET" });
    await expectProblem(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("404 for a known path with a trailing slash: the router does not serve it, so no method is allowed there", async () => {
    // Was 405 "GET is not allowed on /api/v1/system/info/" with "Allow: GET, HEAD": a client told
    // to use the very method it used.
    for (const path of ["/api/v1/system/info/", "/healthz/"]) {
      const res = await SELF.fetch(`http://plinth.test${path}`);
      const body = await expectProblem(res, 404, "not_found");
      expect(res.headers.get("allow")).toBeNull();
      expect(body.detail).toContain(path);
    }
    const { fetch } = testApp([notesModule()]);
    await expectProblem(await fetch("/api/v1/notes/notes/", json({ title: "hello", body: "world" })), 404, "not_found");
  });

  it("413 from Content-Length before the body is read", async () => {
    const { fetch } = testApp([notesModule()], { MAX_BODY_BYTES: "2048" });
    let pulled = 0;
    // A body that would take forever to send: the answer must not wait for it.
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 1000) controller.close();
        else controller.enqueue(new Uint8Array(1024));
      },
    });
    const res = await fetch("/api/v1/notes/notes", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(10 * 1024 * 1024) },
      body: stream,
      // @ts-expect-error: workerd needs duplex for streamed request bodies
      duplex: "half",
    });
    const body = await expectProblem(res, 413, "payload_too_large");
    expect(body.detail).toContain("2048");
    expect(pulled).toBeLessThan(10);
  });

  it("413 for a chunked body that passes the limit while streaming", async () => {
    const { fetch } = testApp([notesModule()], { MAX_BODY_BYTES: "2048" });
    const chunk = new TextEncoder().encode("x".repeat(1000));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent++;
        if (sent > 100) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await fetch("/api/v1/notes/notes", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      // @ts-expect-error: workerd needs duplex for streamed request bodies
      duplex: "half",
    });
    await expectProblem(res, 413, "payload_too_large");
    expect(sent).toBeLessThan(10);
  });

  it("413 through the real Worker with the default 1 MiB limit", async () => {
    const res = await SELF.fetch("http://plinth.test/api/v1/system/info", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(1024 * 1024 + 1),
    });
    await expectProblem(res, 413, "payload_too_large");
  });

  it("415 for a non-JSON body on a JSON route", async () => {
    const { fetch } = testApp([notesModule()]);
    const res = await fetch("/api/v1/notes/notes", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "title=x",
    });
    await expectProblem(res, 415, "unsupported_media_type");
    const form = await fetch("/api/v1/notes/notes", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "title=x&body=y",
    });
    await expectProblem(form, 415, "unsupported_media_type");
  });

  it("a thrown AppError keeps its code and detail", async () => {
    const { fetch } = testApp([notesModule()]);
    const body = await expectProblem(await fetch("/api/v1/notes/teapot"), 409, "conflict");
    expect(body.detail).toBe("the note is locked");
  });

  it("500 internal for an unexpected error: no detail, no stack, stack logged", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
    const { fetch } = testApp([notesModule()]);
    const res = await fetch("/api/v1/notes/boom");
    const text = await res.clone().text();
    const body = await expectProblem(res, 500, "internal");
    expect(Object.keys(body).sort()).toEqual(["code", "detail", "request_id", "status", "title", "type"]);
    expect(text).not.toContain("secret");
    expect(text).not.toContain("at ");
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const failure = logged.find((l) => l.msg === "unhandled error");
    expect(failure?.stack).toContain("secret database password");
    expect(failure?.request_id).toBe(body.request_id);
  });

  it("a 500 AppError thrown with a cause logs that cause, which the client never sees", async () => {
    // A failed replay call (or a refused platform key) threw `internal` with its reason as the cause,
    // and the edge took every AppError for expected: the operator got a 500 and no line saying why.
    const routes = createRouter().get("/fail", () => {
      throw new AppError("internal", { cause: new Error("replay of x:y: 3 events failed, first e1: no such table") });
    });
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
    const { fetch } = testApp([{ name: "failing", version: "1.0.0", routes }]);
    const res = await fetch("/api/v1/failing/fail");
    const text = await res.clone().text();
    const body = await expectProblem(res, 500, "internal");
    expect(text).not.toContain("events failed");
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const failure = logged.find((l) => l.msg === "unhandled error");
    expect(failure?.request_id).toBe(body.request_id);
    expect(failure?.error_cause).toContain("replay of x:y: 3 events failed, first e1: no such table");
  });
});
