// What the sampling ratio keeps. A request the entry did not sample runs with no span at all:
// nothing is recorded or exported for it, and the objects it calls start no trace of their own.
// A dropped trace also sends nothing (the library, rc.52, exported it with no spans: one empty
// OTLP POST per request at any ratio).
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createPlatform } from "../../src/app";
import { MIGRATIONS } from "../../src/generated/migrations";
import { inSpan } from "../../src/kernel/telemetry";
import { tracesRecorded, tracingFor } from "../../src/kernel/telemetry/instrument";
import { modules } from "../../src/modules";
import { newTenant } from "../identity/helpers";

interface ExportedSpan {
  traceId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string } }[];
}
interface ExportBody {
  resourceSpans?: { scopeSpans?: { spans?: ExportedSpan[] }[] }[];
}

const spansOf = (body: ExportBody) =>
  (body.resourceSpans ?? []).flatMap((r) => (r.scopeSpans ?? []).flatMap((s) => s.spans ?? []));

async function received(): Promise<ExportBody[]> {
  const res = await fetch(`${env.OTLP_RECEIVER}/spans`);
  return res.json();
}

/** Polls the receiver until `done` holds for the spans exported so far (or 10 s passed). */
async function exportedUntil(done: (spans: ExportedSpan[]) => boolean): Promise<ExportBody[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const bodies = await received();
    if (done(bodies.flatMap(spansOf)) || Date.now() > deadline) return bodies;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `handler` as plinth's entry serves it, traced at `ratio`, each request's draw from `random`. */
function entryAt(ratio: string, handler: ExportedHandler<Env>["fetch"], random?: () => number) {
  const tracedEnv = { ...env, OTEL_TRACES_SAMPLER_ARG: ratio };
  const entry = tracingFor(tracedEnv, { random }).handler<ExportedHandler<Env>>({ fetch: handler }).fetch;
  if (!entry) throw new Error("the traced handler has no fetch");
  return async (request: Parameters<typeof entry>[0]): Promise<Response> => {
    const ctx = createExecutionContext();
    const res = await entry(request, env, ctx);
    // The library's waitUntil holds the trace's flush, export included.
    await waitOnExecutionContext(ctx);
    return res;
  };
}

describe("sampling", () => {
  it("posts nothing for a dropped trace, while kept ones are still exported", async () => {
    await fetch(`${env.OTLP_RECEIVER}/spans`, { method: "DELETE" });
    const handler = (route: string) => async () => {
      await inSpan(`sampling-test.${route}`, {}, async () => {});
      // The Cache API works whatever the draw (the library's wrapper of it throws outside a traced invocation).
      expect(await caches.default.match(`http://plinth.test/cache/${route}`)).toBeUndefined();
      return new Response("ok");
    };
    const dropped = entryAt("0", handler("dropped"));
    const before = tracesRecorded();
    for (let i = 0; i < 10; i++)
      expect(await (await dropped(new Request(`http://plinth.test/d/${i}`))).text()).toBe("ok");
    // Not even recorded: the entry decided first and ran the handler itself.
    expect(tracesRecorded()).toBe(before);
    // Kept, after the dropped ones: once its spans arrived, any export of the dropped ones has too.
    const kept = entryAt("1", handler("kept"));
    for (let i = 0; i < 2; i++) expect(await (await kept(new Request(`http://plinth.test/k/${i}`))).text()).toBe("ok");
    const bodies = await exportedUntil((spans) => spans.filter((s) => s.name === "sampling-test.kept").length === 2);
    const names = bodies.flatMap(spansOf).map((s) => s.name);
    expect(names.filter((n) => n === "sampling-test.kept")).toHaveLength(2);
    expect(names).not.toContain("sampling-test.dropped");
    // No request of any kind carried no span (the library's export of a dropped trace).
    expect(bodies.filter((b) => spansOf(b).length === 0).length).toBe(0);
  });

  it("keeps the requests whose draw falls under the ratio, and only those", async () => {
    await fetch(`${env.OTLP_RECEIVER}/spans`, { method: "DELETE" });
    const draws = [0.1, 0.9, 0.29, 0.3, 0.75, 0.05];
    const handler = async (request: Request) => {
      await inSpan(`sampling-test.draw ${new URL(request.url).pathname}`, {}, async () => {});
      return new Response("ok");
    };
    const entry = entryAt("0.3", handler, () => draws.shift() ?? 1);
    const before = tracesRecorded();
    for (let i = 0; i < 6; i++) expect((await entry(new Request(`http://plinth.test/n${i}`))).status).toBe(200);
    expect(tracesRecorded() - before).toBe(3);
    const kept = ["/n0", "/n2", "/n5"].map((p) => `sampling-test.draw ${p}`);
    const bodies = await exportedUntil((spans) => kept.every((k) => spans.some((s) => s.name === k)));
    const drawn = bodies
      .flatMap(spansOf)
      .map((s) => s.name)
      .filter((n) => n.startsWith("sampling-test.draw"));
    expect(drawn.sort()).toEqual(kept);
  });

  it("leaves the objects an unsampled request calls untraced, and traces them under a kept one", async () => {
    const t = await newTenant();
    const platform = createPlatform({ modules, migrations: MIGRATIONS });
    const post = (title: string): Parameters<typeof dropped>[0] =>
      new Request("http://plinth.test/api/v1/blog/posts", {
        method: "POST",
        headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ title, content: "Body" }),
      });
    const dropped = entryAt("0", platform.app.fetch);
    await new Promise((r) => setTimeout(r, 1500)); // the tenant's own traces drain
    await fetch(`${env.OTLP_RECEIVER}/spans`, { method: "DELETE" });

    for (let i = 0; i < 3; i++) expect((await dropped(post(`dropped ${i}`))).status).toBe(201);
    const kept = entryAt("1", platform.app.fetch);
    expect((await kept(post("kept"))).status).toBe(201);

    const server = (s: ExportedSpan) => s.name === "Aggregate.handle";
    const spans = (await exportedUntil((all) => all.some(server))).flatMap(spansOf);
    console.log(
      "DEBUG",
      spans.map((s) => `${s.traceId.slice(0, 6)} ${s.parentSpanId ? "c" : "r"} ${s.name}`).join("\n"),
    );
    const roots = spans.filter(
      (s) => !s.parentSpanId && s.attributes.some((a) => a.value.stringValue === "/api/v1/blog/posts"),
    );
    // One request trace (the kept one), and the Aggregate's span of it in that trace only: the
    // three dropped creates called the same object with no carrier and opened no span there.
    expect(roots).toHaveLength(1);
    expect(spans.filter(server).map((s) => s.traceId)).toEqual([roots[0]?.traceId]);
    expect(spans.filter((s) => s.name === "command post.create")).toHaveLength(1);
  });
});
