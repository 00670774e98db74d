import { describe, expect, it } from "vitest";
import { parseStream, subscribe } from "../../src/kernel/events/subscribe";
import { PostEventSchema } from "../../src/modules/blog/domain";
import { testRuntime } from "../helpers";

// A subscriber gets its aggregate's id from the envelope's stream, with what it imports `subscribe` from.
const envelope = (stream: string) => ({
  id: "evt_1",
  type: "blog.post.published",
  tenant_id: "t_notify",
  stream,
  version: 2,
  occurred_at: "2026-03-01T10:00:00.000Z",
  actor: { kind: "user" as const, id: "u_ada" },
  request_id: null,
  data: { published_at: "2026-03-01T10:00:00.000Z", title: "Hello", author_id: "u_ada" },
});

describe("an event's aggregate, for module code", () => {
  it("names the tenant, aggregate type and id of the stream a subscriber's event came from", async () => {
    const seen: { tenantId: string; type: string; id: string }[] = [];
    const notify = subscribe("notify.followers", PostEventSchema, ["blog.post.published"], async (event) => {
      seen.push(parseStream(event.stream));
    });
    await notify.handle?.(envelope("t_notify/post/p_42"), testRuntime());
    expect(seen).toEqual([{ tenantId: "t_notify", type: "post", id: "p_42" }]);
  });

  it("keeps the rest of the stream as the id, slashes and all, and refuses a stream with no id", () => {
    expect(parseStream("t_1/webhook-endpoint/ep_1/attempt").id).toBe("ep_1/attempt");
    expect(() => parseStream("t_1/post")).toThrow(/malformed stream "t_1\/post"/);
  });
});
