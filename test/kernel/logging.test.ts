import { afterEach, describe, expect, it, vi } from "vitest";
import { nobleAead } from "../../src/kernel/crypto/aead";
import { Envelope, parseMasterKeys, type TenantSeeds } from "../../src/kernel/crypto/envelope";
import { declaredSealedKinds } from "../../src/kernel/crypto/sealed-kinds";
import { base64UrlEncode } from "../../src/kernel/crypto/tokens";
import { createLogger, errorFields, REDACTED } from "../../src/kernel/log";
import { modules } from "../../src/modules";
import { system } from "../../src/modules/system";
import { newSigningSecret } from "../../src/modules/webhooks/signing";
import { notesModule } from "../fixtures";
import { testApp } from "../helpers";
import { newTenant } from "../identity/helpers";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const push = (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>);
  vi.spyOn(console, "log").mockImplementation(push);
  vi.spyOn(console, "warn").mockImplementation(push);
  vi.spyOn(console, "error").mockImplementation(push);
  return lines;
}

describe("structured logging", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes one JSON line per request with method, route pattern, status, duration and request id", async () => {
    const lines = capture();
    const { fetch } = testApp([system(), notesModule()], { LOG_LEVEL: "info" });
    await fetch("/api/v1/system/info", { headers: { "X-Request-Id": "req-1" } });
    await fetch("/nope", { headers: { "X-Request-Id": "req-2" } });
    const requests = lines.filter((l) => l.msg === "request");
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      level: "info",
      method: "GET",
      route: "/api/v1/system/info",
      status: 200,
      request_id: "req-1",
    });
    expect(typeof requests[0]?.duration_ms).toBe("number");
    expect(typeof requests[0]?.ts).toBe("string");
    expect(requests[1]).toMatchObject({ route: null, status: 404, request_id: "req-2" });
  });

  it("logs 5xx requests at error level", async () => {
    const lines = capture();
    const { fetch } = testApp([notesModule()], { LOG_LEVEL: "info" });
    await fetch("/api/v1/notes/boom");
    expect(lines.find((l) => l.msg === "request")).toMatchObject({ level: "error", status: 500 });
  });

  it("respects LOG_LEVEL", async () => {
    const lines = capture();
    const { fetch } = testApp([system()], { LOG_LEVEL: "warn" });
    await fetch("/api/v1/system/info");
    expect(lines.filter((l) => l.msg === "request")).toHaveLength(0);
  });

  it("logs a wrapped error with its causes (a driver's reason under drizzle's 'Failed query'), redacted like the rest", () => {
    const driver = new TypeError("fetch failed: connection refused by Bearer abc.def.ghi");
    const wrapped = new Error("Failed query: select 1", { cause: new Error("SERVER_ERROR", { cause: driver }) });
    expect(errorFields(wrapped)).toMatchObject({
      error_message: "Failed query: select 1",
      error_cause: "Error: SERVER_ERROR <- TypeError: fetch failed: connection refused by Bearer abc.def.ghi",
    });
    expect(errorFields(new Error("plain"))).not.toHaveProperty("error_cause");
    const out: string[] = [];
    createLogger("info", {}, (_level, line) => out.push(line)).error("failed", errorFields(wrapped));
    expect(out[0]).toContain("connection refused");
    expect(out[0]).not.toContain("abc.def.ghi");
  });

  it("logs a failed query's statement without the values bound to it, in the message, the causes and the stack", () => {
    const sql = 'insert into "users" ("email", "name") values (?, ?)';
    const failed = (cause?: unknown) =>
      Object.assign(new Error(`Failed query: ${sql}\nparams: ada@example.com,Ada Lovelace`, { cause }), {
        query: sql,
        params: ["ada@example.com", "Ada Lovelace"],
      });
    const fields = errorFields(new Error("the signup failed", { cause: failed(new Error("D1_ERROR: UNIQUE")) }));
    expect(fields.error_cause).toBe(`Error: Failed query: ${sql}\nparams: [2 left out] <- Error: D1_ERROR: UNIQUE`);
    const direct = errorFields(failed());
    expect(direct.error_message).toBe(`Failed query: ${sql}\nparams: [2 left out]`);
    expect(String(direct.stack)).toContain("params: [2 left out]");
    expect(JSON.stringify([fields, direct])).not.toMatch(/ada@example\.com|Lovelace/);
  });

  it("child loggers bind fields and keep the level", () => {
    const out: string[] = [];
    const log = createLogger("info", { service: "plinth" }, (_level, line) => out.push(line)).child({
      tenant_id: "t1",
    });
    log.debug("hidden");
    log.info("shown", { n: 1 });
    expect(out.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: "info", msg: "shown", service: "plinth", tenant_id: "t1", n: 1 }),
    ]);
  });

  it("redacts secrets: by field name at any depth, and by shape in any string, messages and stacks included", () => {
    const out: string[] = [];
    const log = createLogger("debug", {}, (_level, line) => out.push(line));
    const apiKey = `plk_test_${"A1b2C3d4".repeat(5)}`;
    const refresh = `plr_${"z9Y8x7W6".repeat(4)}`;
    const jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLWJ5dGVz";
    const root = "root-key-that-has-no-recognisable-shape-0123456789";
    const error = new Error(`refused ${apiKey}`);
    log.error("login failed", {
      password: "hunter2-hunter2",
      user: { email: "a@b.c", new_password: "correct horse", refresh_token: refresh },
      headers: { Authorization: `Bearer ${jwt}`, "content-type": "application/json" },
      platform_root_key: root,
      attempts: [{ access_token: jwt }],
      note: `the client sent ${apiKey} and then Bearer ${jwt}`,
      ok: true,
      key_id: "k_123",
      stack: error.stack,
    });
    const text = out.join("\n");
    for (const secret of ["hunter2", "correct horse", refresh, jwt, apiKey, root, "A1b2C3d4A1b2"]) {
      expect(text).not.toContain(secret);
    }
    const line = JSON.parse(out[0] ?? "{}");
    expect(line).toMatchObject({
      level: "error",
      msg: "login failed",
      password: REDACTED,
      user: { email: "a@b.c", new_password: REDACTED, refresh_token: REDACTED },
      headers: { Authorization: REDACTED, "content-type": "application/json" },
      platform_root_key: REDACTED,
      attempts: [{ access_token: REDACTED }],
      ok: true,
      key_id: "k_123",
    });
    expect(line.note).toBe(`the client sent plk_${REDACTED} and then Bearer ${REDACTED}`);
    expect(line.stack).toContain(`refused plk_${REDACTED}`);
    expect(typeof line.ts).toBe("string");
  });

  it("masks fields named as signatures, nonces and one-time codes, which no secret shape covers", () => {
    const out: string[] = [];
    const log = createLogger("debug", {}, (_level, line) => out.push(line));
    log.warn("check failed", {
      signature: "v1,c2lnbmF0dXJl",
      webhook_sig: "deadbeef",
      nonce: "n-0123456789",
      totp: "123456",
      otp_code: "654321",
      key_id: "k_1",
    });
    expect(JSON.parse(out[0] ?? "{}")).toMatchObject({
      signature: REDACTED,
      webhook_sig: REDACTED,
      nonce: REDACTED,
      totp: REDACTED,
      otp_code: REDACTED,
      key_id: "k_1",
    });
  });

  it("masks seeds, login challenges and PKCE verifiers by name; `code` and `state` name error codes and breaker states", () => {
    const out: string[] = [];
    const log = createLogger("debug", {}, (_level, line) => out.push(line));
    // A sign-in's seed (its PKCE verifier, 43 base64url characters) and a tenant's key seed have no shape.
    const seed = "q3Vb9cT0xLr7mZk2WJd8sHf1nPa6yEu4oIg5tRw0AbC";
    log.warn("sign-in failed", {
      pending: { seed, expiresAt: "2030-01-01T00:00:00Z" },
      key_seed: seed,
      seeds: [seed],
      challenge: "plc-shaped-or-not-0123456789",
      code_verifier: seed,
      code: "sso_state_invalid",
      state: "half_open",
      error_code: "not_found",
    });
    expect(out.join("\n")).not.toContain(seed);
    expect(JSON.parse(out[0] ?? "{}")).toMatchObject({
      pending: { seed: REDACTED, expiresAt: "2030-01-01T00:00:00Z" },
      key_seed: REDACTED,
      seeds: REDACTED,
      challenge: REDACTED,
      code_verifier: REDACTED,
      code: "sso_state_invalid",
      state: "half_open",
      error_code: "not_found",
    });
  });

  it("masks a sealed value (an SSO sign-in's state, any envelope ciphertext) by its shape, keeping its key version", async () => {
    const out: string[] = [];
    const log = createLogger("debug", {}, (_level, line) => out.push(line));
    const masters = parseMasterKeys(JSON.stringify([{ version: 3, key: base64UrlEncode(new Uint8Array(32).fill(7)) }]));
    const seeds: TenantSeeds = { seed: async () => new Uint8Array(32).fill(1) };
    const envelope = new Envelope(nobleAead, masters, seeds, declaredSealedKinds(modules));
    const state = await envelope.encrypt("t1", "identity.sso.state", JSON.stringify({ s: "x".repeat(43) }));
    const sealed = state.slice("v3.".length);
    log.warn("callback failed", { url: `https://t.example/api/v1/auth/sso/callback?state=${state}&code=abc` });
    expect(out.join("\n")).not.toContain(sealed.slice(0, 32));
    expect(JSON.parse(out[0] ?? "{}").url).toBe(
      `https://t.example/api/v1/auth/sso/callback?state=v3.${REDACTED}&code=abc`,
    );
  });

  it("masks a webhook signing secret by its shape, wherever a message quotes one", () => {
    const out: string[] = [];
    const log = createLogger("debug", {}, (_level, line) => out.push(line));
    const secret = newSigningSecret();
    log.warn("delivery failed", { reason: `receiver said: bad signature for ${secret}` });
    expect(out.join("\n")).not.toContain(secret.slice("whsec_".length));
    expect(JSON.parse(out[0] ?? "{}").reason).toBe(`receiver said: bad signature for whsec_${REDACTED}`);
  });

  it("every line of a request carries its request, tenant and key ids, and parses as JSON", async () => {
    const tenant = await newTenant("logs");
    const lines = capture();
    const { fetch } = testApp(modules, { LOG_LEVEL: "debug" });
    const res = await fetch("/api/v1/blog/posts", {
      method: "POST",
      headers: {
        authorization: `Bearer ${tenant.adminKey}`,
        "content-type": "application/json",
        "x-request-id": "req-ids",
      },
      body: JSON.stringify({ title: "t", content: "" }),
    });
    expect(res.status).toBe(201);
    const mine = lines.filter((l) => l.request_id === "req-ids");
    expect(mine.map((l) => l.msg)).toEqual(expect.arrayContaining(["command", "request"]));
    expect(mine.find((l) => l.msg === "request")).toMatchObject({ module: "blog", route: "/api/v1/blog/posts" });
    await fetch("/healthz", { headers: { "x-request-id": "req-kernel" } });
    await fetch("/api/v1/me", { headers: { authorization: `Bearer ${tenant.adminKey}`, "x-request-id": "req-me" } });
    const byId = (id: string) => lines.find((l) => l.request_id === id && l.msg === "request");
    expect(byId("req-kernel")).toMatchObject({ module: "kernel" });
    expect(byId("req-me")).toMatchObject({ module: "identity" });
    for (const l of mine) {
      expect(l).toMatchObject({ tenant_id: tenant.id, key_id: expect.any(String) });
      expect(typeof l.ts).toBe("string");
    }
    expect(JSON.stringify(lines)).not.toContain(tenant.adminKey);
  });
});
