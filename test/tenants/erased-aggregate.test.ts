// An aggregate emptied by its tenant's erasure takes no late command (a request still in
// flight past the grace): its stream is not started again with the erased tenant's data.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { aggregateByName, aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import { postDecider } from "../../src/modules/blog/domain";
import { newTenant } from "../identity/helpers";

const ctx = { now: "2026-06-01T00:00:00.000Z", actor: { kind: "api_key" as const, id: "late" } };

describe("an aggregate after its tenant's erasure", () => {
  it("refuses a late command and stays empty", async () => {
    const t = await newTenant("eag");
    const post = aggregateOf(env, postDecider, t.id, "post-late");
    const create = { type: "create", id: "post-late", title: "Hello", content: "personal", author_id: "u1" } as const;
    expect((await post.handle({ command: create, ctx, requestId: null })).ok).toBe(true);

    await aggregateByName(env, `${t.id}/${postDecider.type}/post-late`).eraseAll({ tenant_id: t.id });

    await expect(post.handle({ command: create, ctx, requestId: null })).rejects.toThrow(/erased/);
    // A late gap fill (a projection's) is refused as well, so its consumer drops the event.
    await expect(post.read(1, 100)).rejects.toThrow(/^TenantErased: /);
    expect((await post.state()).version).toBe(0);
  });
});
