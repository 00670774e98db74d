import { describe, expect, it } from "vitest";
import {
  OutboundFailed,
  type OutboundPolicy,
  OutboundRefused,
  type Resolver,
  type SafeFetchInit,
  safeFetch,
  staticResolver,
} from "../../src/kernel/outbound";

const production: OutboundPolicy = { development: false };
const development: OutboundPolicy = { development: true };
const LIMITS: SafeFetchInit = { timeoutMs: 2_000, maxResponseBytes: 1024 };
const SECRET_BODY = "stack trace with password=hunter2";

const resolver = staticResolver({
  "hooks.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
  "internal.example.com": ["10.0.0.5"],
  "mixed.example.com": ["93.184.215.14", "192.168.0.10"],
  "rebind.example.com": ["93.184.215.14", "::ffff:169.254.169.254"],
  "dev.example.com": ["127.0.0.1"],
});

type Sent = { url: string; init: RequestInit | undefined };

// A fetch that records what it was asked and answers with `reply`.
function fakeFetch(
  reply: (url: string, init?: RequestInit) => Promise<Response> | Response = () => new Response("ok"),
) {
  const sent: Sent[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    sent.push({ url, init });
    return reply(url, init);
  }) as typeof fetch;
  return { fetcher, sent };
}

// Never answers until the signal aborts, then rejects the way fetch does.
function hangingFetch() {
  return fakeFetch(
    (_url, init) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      }),
  );
}

async function refusal(promise: Promise<unknown>): Promise<OutboundRefused> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OutboundRefused);
  return error as OutboundRefused;
}

async function failure(promise: Promise<unknown>): Promise<OutboundFailed> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OutboundFailed);
  return error as OutboundFailed;
}

describe("safeFetch sends", () => {
  it("the request as given, with redirect manual, and returns status, headers and body", async () => {
    const { fetcher, sent } = fakeFetch(() => new Response('{"ok":true}', { status: 202, headers: { "x-id": "7" } }));
    let clock = 1_000;
    const res = await safeFetch(
      "https://hooks.example.com/in",
      { ...LIMITS, method: "POST", headers: { "content-type": "application/json" }, body: '{"a":1}' },
      { policy: production, resolver, fetch: fetcher, now: () => (clock += 40) },
    );
    expect(res).toMatchObject({ status: 202, body: '{"ok":true}', truncated: false, durationMs: 40 });
    expect(res.headers.get("x-id")).toBe("7");
    expect(res).not.toHaveProperty("redirected_to");
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe("https://hooks.example.com/in");
    expect(sent[0]?.init).toMatchObject({ method: "POST", body: '{"a":1}', redirect: "manual" });
    expect(new Headers(sent[0]?.init?.headers).get("content-type")).toBe("application/json");
  });

  it("to a public IP literal without asking the resolver", async () => {
    const { fetcher, sent } = fakeFetch();
    const noDns: Resolver = { resolve: () => Promise.reject(new Error("must not be asked")) };
    await safeFetch("https://93.184.215.14/", LIMITS, { policy: production, resolver: noDns, fetch: fetcher });
    expect(sent).toHaveLength(1);
  });
});

describe("safeFetch refuses", () => {
  it.each([
    ["https://10.0.0.1/", "private network"],
    ["https://127.0.0.1/", "loopback"],
    ["https://[::1]/", "loopback"],
    ["https://169.254.169.254/", "cloud metadata"],
    ["https://[fd00:ec2::254]/", "cloud metadata"],
    ["https://169.254.10.10/", "link-local"],
    ["https://0.0.0.0/", "unspecified"],
    ["https://239.1.1.1/", "multicast"],
    ["https://203.0.113.5/", "reserved"],
    ["https://100.64.1.1/", "carrier-grade NAT"],
    ["https://2130706433/", "loopback"],
    ["https://[::ffff:127.0.0.1]/", "loopback"],
    ["https://localhost/", "localhost"],
    ["https://metadata.google.internal/", "metadata"],
    ["https://svc.internal/", "internal name"],
    ["http://hooks.example.com/", "https"],
  ])("%s (%s) without sending anything", async (url, words) => {
    const { fetcher, sent } = fakeFetch();
    const error = await refusal(safeFetch(url, LIMITS, { policy: production, resolver, fetch: fetcher }));
    expect(error.reason).toContain(words);
    expect(error.retryable).toBe(false);
    expect(sent).toHaveLength(0);
  });

  it.each([
    ["internal.example.com", "internal.example.com resolves to a private network address"],
    ["mixed.example.com", "mixed.example.com resolves to a private network address"],
    ["rebind.example.com", "rebind.example.com resolves to a cloud metadata address"],
    ["dev.example.com", "dev.example.com resolves to a loopback address"],
  ])("a name with any non-public address: %s", async (host, reason) => {
    const { fetcher, sent } = fakeFetch();
    const error = await refusal(
      safeFetch(`https://${host}/`, LIMITS, { policy: production, resolver, fetch: fetcher }),
    );
    expect(error.reason).toBe(reason);
    expect(sent).toHaveLength(0);
  });
});

describe("safeFetch in development", () => {
  it.each(["http://localhost:8788/hook", "http://127.0.0.1:8788/hook", "http://[::1]:8788/hook"])(
    "sends http to a receiver on this machine: %s",
    async (url) => {
      const { fetcher, sent } = fakeFetch();
      const res = await safeFetch(url, LIMITS, { policy: development, resolver, fetch: fetcher });
      expect(res.status).toBe(200);
      expect(sent[0]?.url).toBe(new URL(url).href);
    },
  );

  it("sends to a name that resolves to loopback", async () => {
    const { fetcher, sent } = fakeFetch();
    await safeFetch("https://dev.example.com/", LIMITS, { policy: development, resolver, fetch: fetcher });
    expect(sent).toHaveLength(1);
  });

  it("still refuses http elsewhere, and private addresses", async () => {
    const { fetcher, sent } = fakeFetch();
    const deps = { policy: development, resolver, fetch: fetcher };
    expect((await refusal(safeFetch("http://hooks.example.com/", LIMITS, deps))).reason).toContain(
      "only for localhost",
    );
    expect((await refusal(safeFetch("https://internal.example.com/", LIMITS, deps))).reason).toContain("private");
    expect(sent).toHaveLength(0);
  });
});

describe("safeFetch redirects", () => {
  it("returns a 3xx as the response, with its Location made absolute, and does not follow it", async () => {
    const { fetcher, sent } = fakeFetch(
      () => new Response("moved", { status: 302, headers: { location: "/elsewhere?x=1" } }),
    );
    const res = await safeFetch("https://hooks.example.com/in", LIMITS, {
      policy: production,
      resolver,
      fetch: fetcher,
    });
    expect(res.status).toBe(302);
    expect(res.redirected_to).toBe("https://hooks.example.com/elsewhere?x=1");
    expect(sent).toHaveLength(1);
  });

  it("reports a redirect towards a private address without going there", async () => {
    const { fetcher, sent } = fakeFetch(
      () => new Response(null, { status: 307, headers: { location: "http://169.254.169.254/latest/meta-data/" } }),
    );
    const res = await safeFetch("https://hooks.example.com/", LIMITS, { policy: production, resolver, fetch: fetcher });
    expect(res.redirected_to).toBe("http://169.254.169.254/latest/meta-data/");
    expect(sent.map((s) => s.url)).toEqual(["https://hooks.example.com/"]);
  });
});

describe("safeFetch bodies", () => {
  it("stops at maxResponseBytes, cancels the stream and says it truncated", async () => {
    let pulls = 0;
    let cancelled: (reason: unknown) => void = () => undefined;
    const wasCancelled = new Promise((resolve) => {
      cancelled = resolve;
    });
    // An endless body: 100 bytes a chunk.
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(new TextEncoder().encode("x".repeat(100)));
      },
      cancel(reason) {
        cancelled(reason);
      },
    });
    const { fetcher } = fakeFetch(() => new Response(endless));
    const res = await safeFetch(
      "https://hooks.example.com/",
      { ...LIMITS, maxResponseBytes: 250 },
      { policy: production, resolver, fetch: fetcher },
    );
    expect(res.body).toBe("x".repeat(250));
    expect(res.truncated).toBe(true);
    await wasCancelled;
    expect(pulls).toBeLessThan(10);
  });

  it("is not truncated when the body is exactly the limit", async () => {
    const { fetcher } = fakeFetch(() => new Response("y".repeat(64)));
    const res = await safeFetch(
      "https://hooks.example.com/",
      { ...LIMITS, maxResponseBytes: 64 },
      { policy: production, resolver, fetch: fetcher },
    );
    expect(res).toMatchObject({ body: "y".repeat(64), truncated: false });
  });

  it("decodes UTF-8 and drops a character cut in half by the limit", async () => {
    const { fetcher } = fakeFetch(() => new Response("héllo"));
    const deps = { policy: production, resolver, fetch: fetcher };
    expect((await safeFetch("https://hooks.example.com/", { ...LIMITS, maxResponseBytes: 2 }, deps)).body).toBe("h");
    expect((await safeFetch("https://hooks.example.com/", { ...LIMITS, maxResponseBytes: 3 }, deps)).body).toBe("hé");
    expect((await safeFetch("https://hooks.example.com/", LIMITS, deps)).body).toBe("héllo");
  });
});

describe("safeFetch failures", () => {
  it("times out a request that never answers: OutboundFailed, retryable", async () => {
    const { fetcher } = hangingFetch();
    const error = await failure(
      safeFetch(
        "https://hooks.example.com/",
        { ...LIMITS, timeoutMs: 50 },
        { policy: production, resolver, fetch: fetcher },
      ),
    );
    expect(error.retryable).toBe(true);
    expect(error.message).toBe("hooks.example.com: no complete response within 50 ms");
  });

  it("times out even when the fetch ignores its signal", async () => {
    const deaf = fakeFetch(() => new Promise<Response>(() => undefined));
    const error = await failure(
      safeFetch(
        "https://hooks.example.com/",
        { ...LIMITS, timeoutMs: 50 },
        { policy: production, resolver, fetch: deaf.fetcher },
      ),
    );
    expect(error.message).toContain("within 50 ms");
  });

  it("times out a body that stalls, and the message leaves out what had arrived", async () => {
    let cancelled = false;
    const stalls = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(SECRET_BODY));
      },
      cancel() {
        cancelled = true;
      },
    });
    const { fetcher } = fakeFetch(() => new Response(stalls, { status: 500 }));
    const error = await failure(
      safeFetch(
        "https://hooks.example.com/",
        { ...LIMITS, timeoutMs: 50 },
        { policy: production, resolver, fetch: fetcher },
      ),
    );
    expect(error.message).toContain("within 50 ms");
    expect(error.message).not.toContain("hunter2");
    expect(cancelled).toBe(true);
  });

  it("never puts the response body in the message of a body that breaks off", async () => {
    const breaks = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(SECRET_BODY));
      },
      pull(controller) {
        controller.error(new Error(`connection reset after: ${SECRET_BODY}`));
      },
    });
    const { fetcher } = fakeFetch(() => new Response(breaks, { status: 500 }));
    const error = await failure(
      safeFetch("https://hooks.example.com/", LIMITS, { policy: production, resolver, fetch: fetcher }),
    );
    expect(error.message).toBe("hooks.example.com: response body could not be read");
    expect(error.retryable).toBe(true);
    expect(error.noAnswer).toBe(false);
  });

  it("wraps a network error", async () => {
    const { fetcher } = fakeFetch(() => Promise.reject(new TypeError("Network connection lost.")));
    const error = await failure(
      safeFetch("https://hooks.example.com/", LIMITS, { policy: production, resolver, fetch: fetcher }),
    );
    expect(error.message).toBe("hooks.example.com: request failed (network error)");
    expect(error.cause).toBeInstanceOf(TypeError);
    // Failed before any answer: a webhook attempt sends once more at once on this (attempt.ts).
    expect(error.noAnswer).toBe(true);
  });

  it("fails, retryably, when the name does not resolve", async () => {
    const { fetcher, sent } = fakeFetch();
    const error = await failure(
      safeFetch("https://unknown.example.com/", LIMITS, { policy: production, resolver, fetch: fetcher }),
    );
    expect(error.message).toBe("unknown.example.com does not exist");
    expect(error.retryable).toBe(true);
    expect(sent).toHaveLength(0);
  });

  it("stops when the caller's signal aborts", async () => {
    const { fetcher } = hangingFetch();
    const caller = new AbortController();
    const pending = safeFetch(
      "https://hooks.example.com/",
      { ...LIMITS, signal: caller.signal },
      { policy: production, resolver, fetch: fetcher },
    );
    caller.abort();
    expect((await failure(pending)).message).toBe("hooks.example.com: request cancelled");
  });

  it("refuses nonsense limits as a programming error", async () => {
    const { fetcher } = fakeFetch();
    const deps = { policy: production, resolver, fetch: fetcher };
    await expect(safeFetch("https://hooks.example.com/", { timeoutMs: 0, maxResponseBytes: 1 }, deps)).rejects.toThrow(
      RangeError,
    );
    await expect(
      safeFetch("https://hooks.example.com/", { timeoutMs: 10, maxResponseBytes: -1 }, deps),
    ).rejects.toThrow(RangeError);
  });
});
