import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { notesModule } from "../fixtures";
import { expectSecurityHeaders, testApp } from "../helpers";

describe("request id", () => {
  it("echoes a sane incoming X-Request-Id", async () => {
    const id = "client-42.a:b_c-d";
    const res = await SELF.fetch("http://plinth.test/healthz", { headers: { "X-Request-Id": id } });
    expect(res.headers.get("x-request-id")).toBe(id);
  });

  it.each([
    ["too long", "a".repeat(129)],
    ["bad characters", "abc def<script>"],
    ["header injection attempt", "abc%0d%0aSet-Cookie:x"],
  ])("replaces an incoming id that is %s", async (_why, id) => {
    const res = await SELF.fetch("http://plinth.test/healthz", { headers: { "X-Request-Id": id } });
    const echoed = res.headers.get("x-request-id");
    expect(echoed).not.toBe(id);
    expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("generates a distinct id per request when none is sent", async () => {
    const a = await SELF.fetch("http://plinth.test/healthz");
    const b = await SELF.fetch("http://plinth.test/healthz");
    expect(a.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
  });

  it("puts the same id in an error's body and header", async () => {
    const res = await SELF.fetch("http://plinth.test/missing", { headers: { "X-Request-Id": "trace-me" } });
    expect(res.headers.get("x-request-id")).toBe("trace-me");
    expect(((await res.json()) as { request_id: string }).request_id).toBe("trace-me");
  });
});

describe("security headers", () => {
  it.each([
    ["GET", "/healthz", 200],
    ["GET", "/api/v1/system/info", 200],
    ["GET", "/openapi.json", 200],
    ["GET", "/nope", 404],
    ["PUT", "/healthz", 405],
  ])("are on %s %s (%i)", async (method, path, status) => {
    const res = await SELF.fetch(`http://plinth.test${path}`, { method });
    expect(res.status).toBe(status);
    expectSecurityHeaders(res);
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it("are on 415 and 500 responses too", async () => {
    const { fetch } = testApp([notesModule()]);
    for (const res of [
      await fetch("/api/v1/notes/notes", { method: "POST", headers: { "content-type": "text/plain" }, body: "x" }),
      await fetch("/api/v1/notes/boom"),
    ]) {
      expect([415, 500]).toContain(res.status);
      expectSecurityHeaders(res);
    }
  });

  it("add HSTS on https only", async () => {
    const secure = await SELF.fetch("https://plinth.test/healthz");
    expect(secure.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
    const plain = await SELF.fetch("http://plinth.test/healthz");
    expect(plain.headers.get("strict-transport-security")).toBeNull();
  });

  it("give the docs page its own policy that allows only same-origin script and style", async () => {
    const res = await SELF.fetch("http://plinth.test/docs");
    expect(res.status).toBe(200);
    expectSecurityHeaders(res);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("http");
  });
});
