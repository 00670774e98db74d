import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { createPlatform } from "../../src/app";
import { KERNEL_NEEDS, loadConfig, markOriginalEnv, parseConfig } from "../../src/kernel/config";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { system } from "../../src/modules/system";
import { expectProblem, testApp } from "../helpers";

describe("configuration", () => {
  afterEach(() => vi.restoreAllMocks());

  it("parses the test environment with defaults", () => {
    const result = parseConfig({ ...env });
    expect(result).toMatchObject({
      ok: true,
      config: { environment: "test", logLevel: "warn", maxBodyBytes: 1048576, gitCommit: "test-commit" },
    });
  });

  it("reports every bad or missing variable by name", () => {
    const { DB: _db, AUDIT_LOG: _audit, ...rest } = env as unknown as Record<string, unknown>;
    // The kernel's bindings and those the registered modules declare (the audit module's AUDIT_LOG).
    const { needs } = createPlatform({ modules, migrations: [] });
    const result = parseConfig({ ...rest, ENVIRONMENT: "prod", MAX_BODY_BYTES: "lots", LOG_LEVEL: "loud" }, needs);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.variable).sort()).toEqual([
      "AUDIT_LOG",
      "DB",
      "ENVIRONMENT",
      "LOG_LEVEL",
      "MAX_BODY_BYTES",
    ]);
  });

  it("says where to add a missing binding in the log, and tells the client no more than its name", async () => {
    const { needs } = createPlatform({ modules, migrations: [] });
    const result = parseConfig({ ...env, FILE_STORE: undefined, FILES: undefined }, needs);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([
      {
        variable: "FILES",
        message:
          "missing R2 binding: add it as [[r2_buckets]] in wrangler.toml, at the top level and in every [env.*] section (bindings are not inherited), then run npm run types",
      },
      {
        variable: "FILE_STORE",
        message:
          "missing Durable Object namespace binding: add it as [[durable_objects.bindings]] in wrangler.toml, at the top level and in every [env.*] section (bindings are not inherited), then run npm run types",
      },
    ]);

    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
    const body = await expectProblem(
      await testApp(modules, { FILE_STORE: undefined }).fetch("/healthz"),
      500,
      "config_invalid",
    );
    expect(body.detail).toBe("the server's configuration is invalid: FILE_STORE");
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; issues?: { message: string }[] });
    expect(logged.find((l) => l.msg === "config invalid")?.issues?.[0]?.message).toContain(
      "[[durable_objects.bindings]]",
    );
  });

  it("says what a missing required variable is and how to set it, not only that it was undefined", () => {
    const result = parseConfig({ ...env, ENVIRONMENT: undefined, JWT_SIGNING_KEYS: undefined });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([
      { variable: "ENVIRONMENT", message: "must be set: development, test, staging or production" },
      { variable: "JWT_SIGNING_KEYS", message: expect.stringContaining("wrangler secret put JWT_SIGNING_KEYS") },
    ]);
  });

  it("names the problems across variables in the same answer as a bad variable's", () => {
    // A bad LOG_LEVEL once hid the half-set mail provider until it was fixed and the Worker restarted.
    const result = parseConfig({ ...env, LOG_LEVEL: "verbose", MAIL_FROM: "plinth@example.com" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.variable).sort()).toEqual(["LOG_LEVEL", "MAIL_API_KEY", "MAIL_API_URL"]);
    // A provider URL that does not parse still has its missing partners named in the same answer.
    const badUrl = parseConfig({ ...env, MAIL_API_URL: "http://mail.example.com/send" });
    expect(badUrl.ok).toBe(false);
    if (badUrl.ok) return;
    expect(badUrl.issues.map((i) => i.variable).sort()).toEqual(["MAIL_API_KEY", "MAIL_API_URL", "MAIL_FROM"]);
    // Not a URL at all: its refinements run after the failed URL check too, and must not throw
    // (that was a 500 `internal` on every request instead of config_invalid naming it).
    const notUrl = parseConfig({ ...env, MAIL_API_URL: "mail.example.com/send" });
    expect(notUrl.ok).toBe(false);
    if (notUrl.ok) return;
    expect(notUrl.issues.map((i) => i.variable).sort()).toEqual(["MAIL_API_KEY", "MAIL_API_URL", "MAIL_FROM"]);
    expect(notUrl.issues.find((i) => i.variable === "MAIL_API_URL")?.message).toContain("http(s) URL");
    const readModels = parseConfig({ ...env, LOG_LEVEL: "verbose", READ_MODEL_AUTH_TOKEN: "secret-token-value" });
    expect(readModels.ok).toBe(false);
    if (readModels.ok) return;
    expect(readModels.issues.map((i) => i.variable).sort()).toEqual(["LOG_LEVEL", "READ_MODEL_AUTH_TOKEN"]);
    expect(JSON.stringify(readModels.issues)).not.toContain("secret-token-value");
  });

  it("names a JWT_SIGNING_KEYS that is not a key set, without quoting it", () => {
    // It once passed as any non-empty string: /readyz said ok, then the JWKS, logins and
    // the hourly audit checkpoints failed with 500 internal.
    const leak = "d-S3CR3T-part";
    for (const bad of [
      `not json ${leak}`,
      "[]",
      JSON.stringify([{ kty: "OKP", crv: "Ed25519", x: "short", d: leak, kid: "k1" }]),
      JSON.stringify({ keys: [] }),
    ]) {
      const result = parseConfig({ ...env, JWT_SIGNING_KEYS: bad });
      expect(result.ok, bad).toBe(false);
      if (result.ok) continue;
      expect(result.issues.map((i) => i.variable)).toEqual(["JWT_SIGNING_KEYS"]);
      expect(JSON.stringify(result.issues)).not.toContain(leak);
    }
  });

  it("fails every request with config_invalid, naming the variable but never its value", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
    const { fetch } = testApp([system()], { LOG_LEVEL: "chatty-s3cr3t" });
    for (const path of ["/healthz", "/api/v1/system/info", "/nope"]) {
      const res = await fetch(path);
      const body = await expectProblem(res, 500, "config_invalid");
      expect(body.detail).toContain("LOG_LEVEL");
      expect(JSON.stringify(body)).not.toContain("chatty-s3cr3t");
    }
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "config invalid");
    expect(logged.length).toBe(3);
    expect(logged[0]?.variables).toEqual(["LOG_LEVEL"]);
    expect(lines.join("\n")).not.toContain("chatty-s3cr3t");
  });

  it("checks the variables modules declare with the kernel's, every request, naming them but never their values", async () => {
    const counted = {
      ...system(),
      name: "counted",
      variables: {
        COUNTED_LIMIT: z.coerce.number("must be a number").int("must be a whole number").default(10),
        COUNTED_MODE: z.enum(["fast", "safe"], "must be fast or safe"),
      },
    } satisfies ModuleDef;
    const { needs } = createPlatform({ modules: [counted], migrations: [] });
    const result = parseConfig({ ...env, COUNTED_LIMIT: "ten-s3cr3t", LOG_LEVEL: "chatty" }, needs);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([
      { variable: "COUNTED_LIMIT", message: "must be a number" },
      { variable: "COUNTED_MODE", message: "must be fast or safe" },
      { variable: "LOG_LEVEL", message: expect.any(String) },
    ]);
    expect(parseConfig({ ...env, COUNTED_MODE: "safe" }, needs).ok).toBe(true);

    vi.spyOn(console, "error").mockImplementation(() => {});
    const { fetch } = testApp([counted], { COUNTED_MODE: "slow-s3cr3t" });
    const body = await expectProblem(await fetch("/healthz"), 500, "config_invalid");
    expect(body.detail).toBe("the server's configuration is invalid: COUNTED_MODE");
    expect(JSON.stringify(body)).not.toContain("s3cr3t");
    expect((await testApp([counted], { COUNTED_MODE: "fast" }).fetch("/healthz")).status).toBe(200);
  });

  it("names a bad WEBHOOK_POLICY on every request, as the webhooks module declares it", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    for (const [value, reason] of [
      ["nope", "is not JSON"],
      ['{"attempt_timeout_ms":5}', "attempt_timeout_ms"],
    ]) {
      const { fetch } = testApp(modules, { WEBHOOK_POLICY: value });
      const body = await expectProblem(await fetch("/healthz"), 500, "config_invalid");
      expect(body.detail).toBe("the server's configuration is invalid: WEBHOOK_POLICY");
      const { needs } = createPlatform({ modules, migrations: [] });
      const result = parseConfig({ ...env, WEBHOOK_POLICY: value }, needs);
      expect(result.ok ? [] : result.issues.map((i) => i.message).join()).toContain(reason);
    }
    expect((await testApp(modules, { WEBHOOK_POLICY: '{"retry_base_ms":100}' }).fetch("/healthz")).status).toBe(200);
  });

  it("honours MAX_BODY_BYTES", async () => {
    const { fetch } = testApp([system()], { MAX_BODY_BYTES: "4096" });
    const small = await fetch("/api/v1/system/info", { method: "POST", body: "x".repeat(4096) });
    expect(small.status).toBe(405);
    const big = await fetch("/api/v1/system/info", { method: "POST", body: "x".repeat(4097) });
    await expectProblem(big, 413, "payload_too_large");
  });
});

describe("ENCRYPTION_KEYS", () => {
  it("is optional, and when set must parse, without its value in the report", () => {
    expect(parseConfig({ ...env }).ok).toBe(true);
    const bad = parseConfig({ ...env, ENCRYPTION_KEYS: '[{"version":1,"key":"tooshort-s3cret"}]' });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues.map((i) => i.variable)).toEqual(["ENCRYPTION_KEYS"]);
    expect(JSON.stringify(bad.issues)).not.toContain("s3cret");
  });

  it("says what is wrong with it (a repeated version, which entry's key), never quoting a key", () => {
    // An operator adding a version by hand saw the same "must be a JSON array of { version, key }
    // with 32-byte base64url keys" for a repeated version as for a bad key: the log said nothing
    // of which entry to fix, though the value was a JSON array of 32-byte keys.
    const k1 = `${"A".repeat(42)}E`;
    const k2 = `${"B".repeat(42)}E`;
    const message = (value: string) => {
      const result = parseConfig({ ...env, ENCRYPTION_KEYS: value });
      expect(result.ok, value).toBe(false);
      if (result.ok) return "";
      expect(result.issues.map((i) => i.variable)).toEqual(["ENCRYPTION_KEYS"]);
      const text = result.issues.map((i) => i.message).join("\n");
      for (const key of [k1, k2, "tooshort-s3cret"]) expect(text).not.toContain(key);
      return text;
    };
    const twice = message(
      JSON.stringify([
        { version: 1, key: k2 },
        { version: 1, key: k1 },
      ]),
    );
    expect(twice).toContain("version 1 is listed twice");
    const short = message(
      JSON.stringify([
        { version: 2, key: "tooshort-s3cret" },
        { version: 1, key: k1 },
      ]),
    );
    expect(short).toContain("[0].key");
    expect(short).toContain("32 bytes");
    expect(message("[{version: 2}]")).toContain("not JSON");
    expect(message("[]")).toContain("at least one version");
  });
});

describe("OTEL_* (tracing)", () => {
  it("is off without an endpoint, and the sampling ratio defaults to 1", () => {
    const off = parseConfig({ ...env });
    expect(off.ok && off.config.tracing).toBeUndefined();
    const on = parseConfig({
      ...env,
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://otlp.example.com/v1/traces",
      OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=abc%3D%3D, x-team = plinth",
    });
    expect(on.ok && on.config.tracing).toEqual({
      endpoint: "https://otlp.example.com/v1/traces",
      headers: { "x-api-key": "abc==", "x-team": "plinth" },
      ratio: 1,
    });
  });

  it("reports a bad endpoint, headers or ratio by name, never the headers' value", () => {
    const bad = parseConfig({
      ...env,
      OTEL_EXPORTER_OTLP_ENDPOINT: "otlp.example.com",
      OTEL_EXPORTER_OTLP_HEADERS: "s3cret-without-a-key",
      OTEL_TRACES_SAMPLER_ARG: "1.5",
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues.map((i) => i.variable).sort()).toEqual([
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "OTEL_EXPORTER_OTLP_HEADERS",
      "OTEL_TRACES_SAMPLER_ARG",
    ]);
    expect(JSON.stringify(bad.issues)).not.toContain("s3cret");
    const ratio = parseConfig({
      ...env,
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318/v1/traces",
      OTEL_TRACES_SAMPLER_ARG: "0.01",
    });
    expect(ratio.ok && ratio.config.tracing?.ratio).toBe(0.01);
    expect(parseConfig({ ...env, OTEL_TRACES_SAMPLER_ARG: "often" }).ok).toBe(false);
  });

  it("refuses a plain-http collector off the loopback, which would carry the headers (its API key) in the clear", () => {
    const clear = parseConfig({
      ...env,
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector.example.com/v1/traces",
      OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=s3cret",
    });
    expect(clear.ok).toBe(false);
    if (clear.ok) return;
    expect(clear.issues).toEqual([
      { variable: "OTEL_EXPORTER_OTLP_ENDPOINT", message: expect.stringContaining("must be https") },
    ]);
    expect(JSON.stringify(clear.issues)).not.toContain("s3cret");
    const local = parseConfig({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318/v1/traces" });
    expect(local.ok && local.config.tracing?.endpoint).toBe("http://localhost:4318/v1/traces");
  });

  it("parses once per env, also through a wrapper made anew per call when the original is marked", () => {
    // Stands in for tracing's Proxy of env (a new one per invocation, passing unknown values
    // through), counting what is read through it.
    const reads: string[] = [];
    const wrap = (original: object) =>
      new Proxy(original, {
        get(target, prop, receiver) {
          if (typeof prop === "string") reads.push(prop);
          return Reflect.get(target, prop, receiver);
        },
      }) as Env;

    const original = { ...env };
    markOriginalEnv(original);
    const first = loadConfig(wrap(original), KERNEL_NEEDS);
    expect(first.ok).toBe(true);
    expect(loadConfig(wrap(original), KERNEL_NEEDS)).toBe(first);
    expect(loadConfig(original, KERNEL_NEEDS)).toBe(first);
    expect(reads).toEqual([]);
    // The mark is no variable: spreads, entries and config issues never see it.
    expect(Object.getOwnPropertySymbols({ ...original })).toEqual([]);
    expect(Object.keys(original).sort()).toEqual(Object.keys(env).sort());
    markOriginalEnv(original); // marking twice changes nothing
    expect(loadConfig(wrap(original), KERNEL_NEEDS)).toBe(first);

    // Unmarked, every wrapper is a new key: parsed again, each binding read through it.
    const unmarked = { ...env };
    const a = loadConfig(wrap(unmarked), KERNEL_NEEDS);
    expect(loadConfig(wrap(unmarked), KERNEL_NEEDS)).not.toBe(a);
    expect(reads).toContain("DB");
    // A frozen env cannot carry the mark and is keyed as it comes.
    const frozen = Object.freeze({ ...env });
    markOriginalEnv(frozen);
    expect(loadConfig(frozen, KERNEL_NEEDS)).toBe(loadConfig(frozen, KERNEL_NEEDS));
  });
});
