// safeFetch's timeout runs on the sleeper it is given: a test moves time to end a request
// that never answers, instead of waiting for it.
import { describe, expect, it } from "vitest";
import { OutboundFailed, type OutboundPolicy, safeFetch, staticResolver } from "../../src/kernel/outbound";
import { manualTime } from "../../src/kernel/resilience/sleep";

const production: OutboundPolicy = { development: false };
const resolver = staticResolver({ "hooks.example.com": ["93.184.215.14"] });

// Never answers until the signal aborts, then rejects the way fetch does.
const hanging = ((_input: RequestInfo | URL, init?: RequestInit) =>
  new Promise<Response>((_resolve, reject) => {
    init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
  })) as typeof fetch;

describe("safeFetch's timeout", () => {
  it("ends a request that never answers when the sleeper's time reaches timeoutMs, and not before", async () => {
    const time = manualTime("2030-01-01T08:00:00Z");
    let outcome: unknown = "pending";
    void safeFetch(
      "https://hooks.example.com/in",
      { method: "POST", body: "{}", timeoutMs: 15_000, maxResponseBytes: 1024 },
      { policy: production, resolver, fetch: hanging, sleeper: time.sleeper },
    ).then(
      () => {
        outcome = "answered";
      },
      (error: unknown) => {
        outcome = error;
      },
    );
    await time.advance(14_999);
    expect(outcome).toBe("pending");
    // No real wait: the rejection is there once the moved time has let pending work run.
    await time.advance(1);
    expect(outcome).toBeInstanceOf(OutboundFailed);
    expect((outcome as OutboundFailed).message).toBe("hooks.example.com: no complete response within 15000 ms");
    expect(time.pending()).toBe(0);
  });

  it("leaves no sleep behind once the answer came first", async () => {
    const time = manualTime("2030-01-01T08:00:00Z");
    const res = await safeFetch(
      "https://hooks.example.com/in",
      { timeoutMs: 15_000, maxResponseBytes: 1024 },
      { policy: production, resolver, fetch: (async () => new Response("ok")) as typeof fetch, sleeper: time.sleeper },
    );
    expect(res.body).toBe("ok");
    expect(time.pending()).toBe(0);
  });
});
