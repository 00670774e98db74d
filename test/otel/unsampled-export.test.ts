// A trace the head sampler dropped sends nothing to the collector. The library (rc.52) still
// exports such a trace, with no spans in it: one empty OTLP POST per request at any ratio.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { inSpan } from "../../src/kernel/telemetry";
import { tracingFor } from "../../src/kernel/telemetry/instrument";

interface ExportBody {
  resourceSpans?: { scopeSpans?: { spans?: { name: string }[] }[] }[];
}

const spansOf = (body: ExportBody) =>
  (body.resourceSpans ?? []).flatMap((r) => (r.scopeSpans ?? []).flatMap((s) => s.spans ?? []));

async function received(): Promise<ExportBody[]> {
  const res = await fetch(`${env.OTLP_RECEIVER}/spans`);
  return res.json();
}

/** Serves `count` requests through plinth's traced entry at `ratio`, each with one inner span. */
async function serve(ratio: string, route: string, count: number): Promise<void> {
  const tracedEnv = { ...env, OTEL_TRACES_SAMPLER_ARG: ratio };
  const traced = tracingFor(tracedEnv).handler<ExportedHandler<Env>>({
    async fetch() {
      await inSpan(`unsampled-test.${route}`, {}, async () => {});
      return new Response("ok");
    },
  });
  const entry = traced.fetch;
  if (!entry) throw new Error("the traced handler has no fetch");
  for (let i = 0; i < count; i++) {
    const ctx = createExecutionContext();
    const res = await entry(new Request(`http://plinth.test/${route}/${i}`), env, ctx);
    expect(await res.text()).toBe("ok");
    // The library's waitUntil holds the trace's flush, export included.
    await waitOnExecutionContext(ctx);
  }
}

describe("traces the head sampler dropped", () => {
  it("are not posted to the collector, while sampled ones still are", async () => {
    await fetch(`${env.OTLP_RECEIVER}/spans`, { method: "DELETE" });
    await serve("0", "dropped", 10);
    // Sampled, after the dropped ones: once its spans arrived, any export of the dropped ones has too.
    await serve("1", "kept", 2);
    const deadline = Date.now() + 10_000;
    const names = () => received().then((bodies) => bodies.flatMap(spansOf).map((s) => s.name));
    while (!(await names()).includes("unsampled-test.kept") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const bodies = await received();
    const all = bodies.flatMap(spansOf).map((s) => s.name);
    expect(all.filter((n) => n === "unsampled-test.kept")).toHaveLength(2);
    expect(all).not.toContain("unsampled-test.dropped");
    // No request of any kind carried no span (the library's export of a dropped trace).
    expect(bodies.filter((b) => spansOf(b).length === 0).length).toBe(0);
  });
});
