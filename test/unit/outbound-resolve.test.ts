import { describe, expect, it } from "vitest";
import { dohResolver, ResolveError, staticResolver } from "../../src/kernel/outbound";

type Rr = { name: string; type: number; TTL?: number; data: string };
type Zone = Record<string, { Status?: number; A?: Rr[]; AAAA?: Rr[] }>;

const A = 1;
const CNAME = 5;
const AAAA = 28;

// A DoH JSON endpoint answering from `zone` (keyed by question name); records the questions.
function dohServer(zone: Zone) {
  const questions: Array<{ name: string; type: string; accept: string | null }> = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const name = url.searchParams.get("name") ?? "";
    const type = url.searchParams.get("type") ?? "";
    questions.push({ name, type, accept: new Headers(init?.headers).get("accept") });
    const entry = zone[name] ?? { Status: 3 };
    const answer = type === String(A) ? entry.A : entry.AAAA;
    const body = { Status: entry.Status ?? 0, TC: false, Question: [{ name, type: Number(type) }], Answer: answer };
    return Response.json(body, { headers: { "content-type": "application/dns-json" } });
  }) as typeof fetch;
  return { fetcher, questions };
}

describe("dohResolver", () => {
  it("asks the JSON API for A and AAAA and returns both", async () => {
    const { fetcher, questions } = dohServer({
      "hooks.example.com": {
        A: [{ name: "hooks.example.com", type: A, TTL: 60, data: "93.184.215.14" }],
        AAAA: [{ name: "hooks.example.com", type: AAAA, TTL: 60, data: "2606:2800:21f:cb07:6820:80da:af6b:8b2c" }],
      },
    });
    const addresses = await dohResolver(fetcher, "https://dns.test/dns-query").resolve("Hooks.Example.com.");
    expect(addresses).toEqual(["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]);
    expect(questions).toEqual([
      { name: "hooks.example.com", type: "1", accept: "application/dns-json" },
      { name: "hooks.example.com", type: "28", accept: "application/dns-json" },
    ]);
  });

  it("follows a CNAME chain as the API returns it, addresses at its end", async () => {
    const { fetcher, questions } = dohServer({
      "www.example.com": {
        A: [
          { name: "www.example.com", type: CNAME, data: "edge.cdn.example.net." },
          { name: "edge.cdn.example.net", type: CNAME, data: "lb.cdn.example.net." },
          { name: "lb.cdn.example.net", type: A, data: "10.0.0.5" },
        ],
        AAAA: [{ name: "www.example.com", type: CNAME, data: "edge.cdn.example.net." }],
      },
      "edge.cdn.example.net": { AAAA: [] },
    });
    expect(await dohResolver(fetcher).resolve("www.example.com")).toEqual(["10.0.0.5"]);
    // The AAAA answer stopped at a CNAME: its target is asked for in turn.
    expect(questions.map((q) => `${q.name}/${q.type}`)).toContain("edge.cdn.example.net/28");
  });

  it("rejects a name that does not exist, rather than returning nothing", async () => {
    const { fetcher } = dohServer({});
    await expect(dohResolver(fetcher).resolve("nope.example.com")).rejects.toThrow(
      new ResolveError("nope.example.com does not exist"),
    );
  });

  it("rejects a name with no addresses", async () => {
    const { fetcher } = dohServer({ "mail-only.example.com": { A: [], AAAA: [] } });
    await expect(dohResolver(fetcher).resolve("mail-only.example.com")).rejects.toThrow("has no addresses");
  });

  it("rejects when either lookup fails (SERVFAIL), so no address goes unchecked", async () => {
    const { fetcher } = dohServer({
      "half.example.com": { A: [{ name: "half.example.com", type: A, data: "93.184.215.14" }] },
    });
    const failingAaaa = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input).includes("type=28")) return Response.json({ Status: 2 });
      return fetcher(input, init);
    }) as typeof fetch;
    await expect(dohResolver(failingAaaa).resolve("half.example.com")).rejects.toThrow("rcode 2");
  });

  it("rejects an HTTP error, a malformed body, a malformed address and a CNAME loop", async () => {
    const http500 = (async () => new Response("oops", { status: 500 })) as typeof fetch;
    await expect(dohResolver(http500).resolve("a.example.com")).rejects.toThrow("HTTP 500");

    const garbage = (async () => new Response("<html>")) as typeof fetch;
    await expect(dohResolver(garbage).resolve("a.example.com")).rejects.toThrow("malformed answer");

    const { fetcher: badAddress } = dohServer({
      "b.example.com": { A: [{ name: "b.example.com", type: A, data: "not-an-ip" }], AAAA: [] },
    });
    await expect(dohResolver(badAddress).resolve("b.example.com")).rejects.toThrow("malformed address");

    const { fetcher: loop } = dohServer({
      "x.example.com": {
        A: [
          { name: "x.example.com", type: CNAME, data: "y.example.com." },
          { name: "y.example.com", type: CNAME, data: "x.example.com." },
        ],
      },
    });
    await expect(dohResolver(loop).resolve("x.example.com")).rejects.toThrow("CNAME loop");
  });

  it("rejects when the endpoint cannot be reached", async () => {
    const down = (async () => {
      throw new TypeError("Network connection lost.");
    }) as typeof fetch;
    await expect(dohResolver(down).resolve("a.example.com")).rejects.toBeInstanceOf(ResolveError);
  });
});

describe("staticResolver", () => {
  it("answers from its map, ignoring case and a trailing dot", async () => {
    const resolver = staticResolver({ "Hooks.Example.com": ["93.184.215.14", "::1"] });
    expect(await resolver.resolve("hooks.example.com.")).toEqual(["93.184.215.14", "::1"]);
  });

  it("rejects a name it does not know", async () => {
    await expect(staticResolver({}).resolve("a.example.com")).rejects.toBeInstanceOf(ResolveError);
  });
});
