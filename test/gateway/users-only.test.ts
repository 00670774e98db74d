// The routes of a signed-in user's own account (its password, email, two-factor, sessions, SSO
// link) declare `access: "user"`: the kernel refuses an API key with 403 before it validates
// anything, so a key learns it cannot call the route before it is told how to fill a body it could
// never send, and the document names the `user` scheme on each, so a client knows too. Walked over
// the served document, so a route a module adds later is held to it without anyone naming it.
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { call, newTenant, newUser, ORIGIN } from "../identity/helpers";
import type { Operation } from "./fuzz-operations";
import { isPlatform, servedDocument } from "./isolation-walk";

const { operations, raw } = await servedDocument();
const schemes = (op: Operation) => (raw(op).security ?? []).flatMap((r) => Object.keys(r));
const usersOnly = operations.filter((op) => schemes(op).includes("user"));
// Tenant operations any principal may call, the handler deciding (no permission named).
const anyPrincipal = operations.filter(
  (op) => !isPlatform(op) && (raw(op).security ?? []).some((r) => r.bearer !== undefined && r.bearer.length === 0),
);

/** `op` with every path parameter `x` and, where it takes a JSON body, one its schema refuses (`[]`). */
async function invalid(op: Operation, token: string): Promise<{ status: number; text: string }> {
  const takesJson = op.bodyTypes.includes("application/json");
  const res = await SELF.fetch(`${ORIGIN}${op.path.replace(/\{[^}]+\}/g, "x")}`, {
    method: op.method,
    headers: { authorization: `Bearer ${token}`, ...(takesJson ? { "content-type": "application/json" } : {}) },
    body: takesJson ? "[]" : undefined,
  });
  return { status: res.status, text: await res.text() };
}

const REFUSES_KEYS = "does not accept an API key";

describe("the routes of a signed-in user's own account", () => {
  let adminKey: string;
  let userToken: string;
  beforeAll(async () => {
    const t = await newTenant("usr");
    adminKey = t.adminKey;
    userToken = (await newUser(t.slug)).access_token;
  });

  it("refuse an API key before they validate its body (two-factor's confirm and disable)", async () => {
    for (const [method, path] of [
      ["POST", "/api/v1/me/two-factor/confirm"],
      ["DELETE", "/api/v1/me/two-factor"],
    ] as const) {
      const res = await call(path, { method, token: adminKey, body: { code: "not a code" } });
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body).toMatchObject({ code: "forbidden", detail: `this route ${REFUSES_KEYS}` });
      // The user it is for is told how to fill the body.
      const mine = await call(path, { method, token: userToken, body: { code: "not a code" } });
      expect(mine.status, JSON.stringify(mine.body)).toBe(400);
      expect(mine.body.code).toBe("validation_failed");
    }
  });

  it("are declared with the user scheme, which the document describes as refusing keys", async () => {
    const doc = (await (await SELF.fetch(`${ORIGIN}/openapi.json`)).json()) as {
      components: { securitySchemes: Record<string, { type: string; scheme: string; bearerFormat?: string }> };
    };
    expect(doc.components.securitySchemes.user).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    const ids = usersOnly.map((op) => op.operationId);
    expect(ids).toEqual(
      expect.arrayContaining(["confirmTwoFactor", "disableTwoFactor", "listMySessions", "changePassword"]),
    );
    // None of them also admits the bearer scheme (a key), nor names a permission.
    expect(usersOnly.filter((op) => schemes(op).join() !== "user").map((op) => op.operationId)).toEqual([]);
  });

  it("every operation declared users-only answers a key 403 before anything else of the request", async () => {
    const problems: string[] = [];
    for (const op of usersOnly) {
      const { status, text } = await invalid(op, adminKey);
      if (status !== 403 || !text.includes(REFUSES_KEYS)) problems.push(`${op.operationId}: ${status} ${text}`);
    }
    expect(problems).toEqual([]);
  });

  it("no operation open to any principal refuses a key for being one: it would be users-only, undeclared", async () => {
    expect(anyPrincipal.length).toBeGreaterThan(3);
    const problems: string[] = [];
    for (const op of anyPrincipal) {
      const { status, text } = await invalid(op, adminKey);
      if (text.includes(REFUSES_KEYS)) problems.push(`${op.operationId}: ${status} ${text}`);
    }
    expect(problems).toEqual([]);
  });
});
