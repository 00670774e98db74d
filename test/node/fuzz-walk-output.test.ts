// The OpenAPI walk's failure output (test/gateway/fuzz-inputs.ts): fast-check prints the request
// that failed, and a credential in it is named, never shown, however long it is. An access token
// (~500 characters) was cut to its first 120 before it was looked for, so its head was printed.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { requestsFor } from "../gateway/fuzz-inputs";
import type { Operation } from "../gateway/fuzz-operations";

const op: Operation = {
  method: "GET",
  path: "/api/v1/admin/roles/{name}",
  operationId: "getRole",
  pathParams: ["name"],
  queryParams: [],
  paramSchemas: {},
  headerParams: [],
  cookieParams: [],
  bodyTypes: [],
  bodyProps: [],
  schemas: {},
  secured: true,
};

describe("the walk's printed requests", () => {
  it("names every credential, a token longer than the printed cut included", () => {
    const creds = {
      tenantId: "t1",
      adminKey: `plk_${"Ak3".repeat(14)}`,
      ownerToken: `eyJ${"Ot7".repeat(170)}`,
      rootKey: `plr_${"Rk5".repeat(14)}`,
      slug: "acme",
      stream: "t1/post/p1",
    };
    const shown = fc
      .sample(requestsFor(op, creds, ["member"]), { numRuns: 200, seed: 1 })
      .map((req) => fc.stringify(req));
    expect(shown.some((s) => s.includes("<owner token>"))).toBe(true);
    expect(shown.some((s) => s.includes("<admin key>"))).toBe(true);
    for (const s of shown) {
      expect(s).not.toContain("Ot7Ot7");
      expect(s).not.toContain("Ak3Ak3");
    }
  });
});
