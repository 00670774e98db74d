// An Idempotency-Key on a POST whose path is long (an id of a few hundred characters, which
// any client can send) made a record key longer than the IdempotencyStore's contract takes:
// the object refused the call and the client got a 500 instead of the route's own answer (a 400 naming the id).
// Found by the OpenAPI walk (test/gateway/input-fuzz.test.ts).

import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { idempotencyRecordKey } from "../../src/kernel/idempotency/record-key";
import { expectProblem } from "../helpers";
import { call, newTenant } from "../identity/helpers";

describe("Idempotency-Key on a long path", () => {
  it("reaches the route, which refuses the id itself", async () => {
    const t = await newTenant("idem-long");
    const id = "i".repeat(1000);
    const res = await SELF.fetch(`http://plinth.test/api/v1/blog/posts/${id}/publish`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "idempotency-key": "k".repeat(255) },
    });
    const problem = await expectProblem(res, 400, "validation_failed");
    expect(JSON.stringify(problem.errors)).toContain("id");
  });

  it("still replays a success under the same key (a short path keeps its key as before)", async () => {
    const t = await newTenant("idem-long");
    const init = { token: t.adminKey, body: { title: "t", content: "c" }, headers: { "idempotency-key": "one" } };
    const first = await call("/api/v1/blog/posts", init);
    const again = await call("/api/v1/blog/posts", init);
    expect(first.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.id).toBe(first.body.id);
  });

  it("gives every method, path and key a record key the store takes, distinct for distinct paths", () => {
    const long = `/api/v1/blog/posts/${"i".repeat(5000)}/publish`;
    const longer = `/api/v1/blog/posts/${"i".repeat(5001)}/publish`;
    const a = idempotencyRecordKey("POST", long, "k".repeat(255));
    expect(a.length).toBeLessThanOrEqual(600);
    expect(idempotencyRecordKey("POST", longer, "k".repeat(255))).not.toBe(a);
    expect(idempotencyRecordKey("POST", "/api/v1/blog/posts", "one")).toBe("POST /api/v1/blog/posts one");
  });
});
