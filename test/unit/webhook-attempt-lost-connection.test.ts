// A delivery attempt whose connection is lost before any answer (workerd's fetch rejects:
// "Network connection lost.", what it throws when it reuses a kept-alive connection the
// receiver has just closed) sends once more at once, within the same attempt and its time
// limit, and says so in the attempt's note. Never after an answer, a timeout or a refusal.
import { describe, expect, it } from "vitest";
import { type OutboundPolicy, staticResolver } from "../../src/kernel/outbound";
import { manualTime } from "../../src/kernel/resilience/sleep";
import { attemptDelivery } from "../../src/modules/webhooks/attempt";
import { DEFAULT_POLICY } from "../../src/modules/webhooks/domain";

const production: OutboundPolicy = { development: false };
const resolver = staticResolver({ "hooks.example.com": ["93.184.215.14"] });
const URL = "https://hooks.example.com/in";
const MESSAGE = { message_id: "msg_01", body: '{"type":"blog.post.created"}' };
const SECRETS = [`whsec_${btoa("k".repeat(32))}`];
const lost = () => new Error("Network connection lost.");

/** A fetch answering each call with the next of `replies` (a Response, or an error to throw), recording the headers sent. */
function scripted(...replies: (Response | Error)[]) {
  const sent: Headers[] = [];
  const fetcher = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    sent.push(new Headers(init?.headers));
    const reply = replies.shift();
    if (reply === undefined) throw new Error("no reply scripted");
    if (reply instanceof Error) throw reply;
    return reply;
  }) as typeof fetch;
  return { fetcher, sent };
}

const deps = (fetcher: typeof fetch, extra: Record<string, unknown> = {}) => ({
  outbound: production,
  resolver,
  now: () => Date.parse("2030-01-01T08:00:00Z"),
  fetch: fetcher,
  ...extra,
});

describe("a delivery attempt whose connection is lost before any answer", () => {
  it("sends once more at once, the same message and headers, and notes it", async () => {
    const { fetcher, sent } = scripted(lost(), new Response("ok", { status: 200 }));
    const outcome = await attemptDelivery(URL, MESSAGE, SECRETS, DEFAULT_POLICY, deps(fetcher));
    expect(outcome).toMatchObject({ kind: "delivered", status: 200, response: "ok" });
    expect(sent).toHaveLength(2);
    expect(sent[1]?.get("webhook-id")).toBe("msg_01");
    expect([...(sent[1]?.entries() ?? [])]).toEqual([...(sent[0]?.entries() ?? [])]);
    expect("note" in outcome && outcome.note).toBe(
      "sent twice: the first connection was lost before any answer (hooks.example.com: request failed (network error))",
    );
  });

  it("is unreachable, with the note, when the second send is lost too; never a third", async () => {
    const { fetcher, sent } = scripted(lost(), lost(), new Response("ok"));
    const outcome = await attemptDelivery(URL, MESSAGE, SECRETS, DEFAULT_POLICY, deps(fetcher));
    expect(outcome).toMatchObject({ kind: "unreachable", error: "hooks.example.com: request failed (network error)" });
    expect("note" in outcome && outcome.note).toMatch(/^sent twice: /);
    expect(sent).toHaveLength(2);
  });

  it("keeps the note when the second send is refused (the name now resolves to a private address)", async () => {
    const answers = [["93.184.215.14"], ["10.0.0.5"]];
    const turning = { resolve: async () => answers.shift() ?? [] };
    const { fetcher, sent } = scripted(lost(), new Response("ok"));
    const outcome = await attemptDelivery(URL, MESSAGE, SECRETS, DEFAULT_POLICY, {
      ...deps(fetcher),
      resolver: turning,
    });
    expect(outcome).toMatchObject({ kind: "refused", note: expect.stringMatching(/^sent twice: /) });
    expect(sent).toHaveLength(1);
  });

  it("takes the receiver's answer as it is: a 500 is not sent again, and has no note", async () => {
    const { fetcher, sent } = scripted(new Response("no", { status: 500 }), new Response("ok"));
    const outcome = await attemptDelivery(URL, MESSAGE, SECRETS, DEFAULT_POLICY, deps(fetcher));
    expect(outcome).toMatchObject({ kind: "rejected", status: 500 });
    expect("note" in outcome).toBe(false);
    expect(sent).toHaveLength(1);
  });

  it("does not send again after a timeout", async () => {
    const time = manualTime("2030-01-01T08:00:00Z");
    let calls = 0;
    const hanging = ((_input: RequestInfo | URL, init?: RequestInit) => {
      calls++;
      return new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      });
    }) as typeof fetch;
    const pending = attemptDelivery(URL, MESSAGE, SECRETS, DEFAULT_POLICY, deps(hanging, { sleeper: time.sleeper }));
    await time.advance(DEFAULT_POLICY.attemptTimeoutMs);
    const outcome = await pending;
    expect(outcome).toMatchObject({
      kind: "unreachable",
      error: "hooks.example.com: no complete response within 10000 ms",
    });
    expect("note" in outcome).toBe(false);
    expect(calls).toBe(1);
  });

  it("does not send again when the body broke off after the answer began", async () => {
    const breaks = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(lost());
      },
    });
    const { fetcher, sent } = scripted(new Response(breaks, { status: 200 }), new Response("ok"));
    const outcome = await attemptDelivery(URL, MESSAGE, SECRETS, DEFAULT_POLICY, deps(fetcher));
    expect(outcome).toMatchObject({ kind: "unreachable", error: "hooks.example.com: response body could not be read" });
    expect(sent).toHaveLength(1);
  });

  it("does not send at all to a refused target, nor again when the name does not resolve", async () => {
    const refusedFetch = scripted(new Response("ok"));
    const refused = await attemptDelivery(
      "https://10.0.0.1/in",
      MESSAGE,
      SECRETS,
      DEFAULT_POLICY,
      deps(refusedFetch.fetcher),
    );
    expect(refused.kind).toBe("refused");
    expect(refusedFetch.sent).toHaveLength(0);
    const unknown = await attemptDelivery(
      "https://unknown.example.com/in",
      MESSAGE,
      SECRETS,
      DEFAULT_POLICY,
      deps(refusedFetch.fetcher),
    );
    expect(unknown).toMatchObject({ kind: "unreachable", error: "unknown.example.com does not exist" });
    expect(refusedFetch.sent).toHaveLength(0);
  });
});
