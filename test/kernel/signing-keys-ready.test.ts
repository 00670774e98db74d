import { describe, expect, it, vi } from "vitest";
import { generateSigningJwk } from "../../src/kernel/auth/jwt";
import { modules } from "../../src/modules";
import { expectProblem, testApp } from "../helpers";

// A JWT_SIGNING_KEYS whose key has the x of another key (a hand edit, an x copied from the
// JWKS) has the right shape, so the config check passes it; only loading the pair finds it.
// It used to leave /readyz at 200 while the JWKS, every login and every token check answered
// `500 internal`: a deploy that broke sign-in looked ready, and clients were told nothing.
describe("JWT_SIGNING_KEYS whose x is not the public key of d", () => {
  async function brokenApp() {
    const a = await generateSigningJwk("k-a");
    const b = await generateSigningJwk("k-b");
    const secret = JSON.stringify([{ ...a, x: b.x }]);
    return { app: testApp(modules, { JWT_SIGNING_KEYS: secret }), d: a.d };
  }

  it("fails /readyz, naming the key and what is wrong, never the key material", async () => {
    const { app, d } = await brokenApp();
    const res = await app.fetch("/readyz");
    const text = await res.text();
    expect(res.status).toBe(503);
    const body = JSON.parse(text) as { checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.checks.signing_keys).toMatchObject({ ok: false });
    expect(body.checks.signing_keys?.error).toContain('key "k-a": x is not the public key of d');
    expect(text).not.toContain(d);
  });

  it("answers 500 config_invalid naming JWT_SIGNING_KEYS (not internal), and logs why", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(String(line)));
    try {
      const { app, d } = await brokenApp();
      const res = await app.fetch("/.well-known/jwks.json");
      const body = await expectProblem(res, 500, "config_invalid");
      expect(body.detail).toContain("JWT_SIGNING_KEYS");
      expect(JSON.stringify(body)).not.toContain(d);
      expect(lines.join("\n")).not.toContain(d);
      // It was logged twice: the cause, then "unhandled error" with the kernel's stack, as for a bug.
      // (Besides the access line every 5xx request gets, "request" with its status.)
      const logged = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((l) => l.msg !== "request");
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: "error", code: "config_invalid", variable: "JWT_SIGNING_KEYS" });
      expect(logged[0]?.error_message).toContain('key "k-a": x is not the public key of d');
      expect(logged[0]).not.toHaveProperty("stack");
      expect(body).not.toHaveProperty("stack");
    } finally {
      vi.restoreAllMocks();
    }
  });
});
