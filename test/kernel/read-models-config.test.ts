import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/kernel/config";
import { readModels, targetOf } from "../../src/kernel/read-models";
import { system } from "../../src/modules/system";
import { testApp } from "../helpers";

const SECRET = "s3cr3t-token-value";

/** The config's issues for these read-model variables, as `variable: message`. */
function issues(vars: Record<string, string>): string[] {
  const result = parseConfig({ ...env, ...vars });
  return result.ok ? [] : result.issues.map((i) => `${i.variable}: ${i.message}`);
}

describe("the read-model database setting (READ_MODEL_URL)", () => {
  it("defaults to D1, and takes a libSQL server with its token", () => {
    const d1 = parseConfig({ ...env });
    expect(d1.ok && d1.config.readModels).toEqual({ kind: "d1" });
    const remote = parseConfig({ ...env, READ_MODEL_URL: "libsql://db-acme.turso.io", READ_MODEL_AUTH_TOKEN: SECRET });
    expect(remote.ok && remote.config.readModels).toEqual({
      kind: "libsql",
      url: "libsql://db-acme.turso.io",
      authToken: SECRET,
    });
    for (const url of [
      "https://db.example.com",
      "wss://db.example.com",
      "http://127.0.0.1:8080",
      "libsql://localhost:8080?tls=0",
    ]) {
      expect(issues({ READ_MODEL_URL: url }), url).toEqual([]);
    }
  });

  it("refuses what the Worker cannot use, or would send the token in the clear, naming the variable and never its value", () => {
    const cases: [Record<string, string>, string][] = [
      [{ READ_MODEL_URL: "file:/tmp/read.db" }, "READ_MODEL_URL: file: URLs work only from Node"],
      [{ READ_MODEL_URL: "not a url" }, "READ_MODEL_URL: must be a libsql://, https:// or wss:// URL"],
      [{ READ_MODEL_URL: "postgres://db.example.com" }, "READ_MODEL_URL: must be a libsql://, https:// or wss:// URL"],
      [{ READ_MODEL_URL: "http://db.example.com" }, "READ_MODEL_URL: must use TLS"],
      [{ READ_MODEL_URL: "libsql://db.example.com?tls=0" }, "READ_MODEL_URL: must use TLS"],
      [{ READ_MODEL_URL: `libsql://db.example.com?authToken=${SECRET}` }, "READ_MODEL_URL: must not carry credentials"],
      [{ READ_MODEL_URL: `https://user:${SECRET}@db.example.com` }, "READ_MODEL_URL: must not carry credentials"],
      [{ READ_MODEL_AUTH_TOKEN: SECRET }, "READ_MODEL_AUTH_TOKEN: is set without READ_MODEL_URL"],
      [
        { READ_MODEL_URL: "https://db.example.com", READ_MODEL_AUTH_TOKEN: "two words" },
        "READ_MODEL_AUTH_TOKEN: must be",
      ],
    ];
    for (const [vars, expected] of cases) {
      const found = issues(vars);
      expect(found.length, JSON.stringify(vars)).toBe(1);
      expect(found[0]).toContain(expected);
      expect(found[0]).not.toContain(SECRET);
    }
  });

  it("gives the queue and alarms a clear error for a bad setting instead of a driver's", () => {
    const bad: Env = Object.assign({}, env, { READ_MODEL_URL: "file:/tmp/read.db" });
    expect(() => targetOf(bad)).toThrow("READ_MODEL_URL / READ_MODEL_AUTH_TOKEN are invalid");
    expect(() => readModels(bad)).toThrow("are invalid");
    expect(targetOf(Object.assign({}, env, { READ_MODEL_URL: "" }))).toEqual({ kind: "d1" });
  });

  it("makes /readyz name an unreachable libSQL server without its address or the driver's message", async () => {
    const { fetch } = testApp([system()], { READ_MODEL_URL: "http://127.0.0.1:9", READ_MODEL_AUTH_TOKEN: SECRET });
    const res = await fetch("/readyz");
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text).checks.read_models).toMatchObject({ ok: false, error: "check failed (see logs)" });
    expect(JSON.parse(text).checks.d1.ok).toBe(true);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("127.0.0.1:9");
  });
});
