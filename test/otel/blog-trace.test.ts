// One blog create, traced end to end: request → command → Aggregate DO → outbox → queue → projections.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, newTenant } from "../identity/helpers";

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
};
type OtlpBody = { resourceSpans: { resource: unknown; scopeSpans: { spans: OtlpSpan[] }[] }[] };

const receiver = () => env.OTLP_RECEIVER ?? "http://otlp-receiver.invalid";

async function exported(): Promise<OtlpSpan[]> {
  const bodies = (await (await fetch(`${receiver()}/spans`)).json()) as OtlpBody[];
  return bodies.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
}

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v ? (v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue) : undefined;
};

/** Polls the receiver until the root is exported and `done` holds for the spans of its trace. */
async function poll(
  rootOf: (spans: OtlpSpan[]) => OtlpSpan | undefined,
  done: (spans: OtlpSpan[]) => boolean,
  ms = 15_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const all = await exported();
    const traceId = rootOf(all)?.traceId;
    const mine = traceId ? all.filter((s) => s.traceId === traceId) : [];
    if ((traceId && done(mine)) || Date.now() > deadline) return { all, mine, traceId };
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tree(spans: OtlpSpan[]): string {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, OtlpSpan[]>();
  for (const s of spans) {
    const p = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : "";
    children.set(p, [...(children.get(p) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (p: string, depth: number) => {
    for (const s of children.get(p) ?? []) {
      const keep = ["tenant.id", "plinth.module", "plinth.command", "event.type", "plinth.outcome", "db.statement"];
      const shown = keep.map((k) => [k, attr(s, k)]).filter(([, v]) => v !== undefined);
      lines.push(
        `${"  ".repeat(depth)}${s.name} [kind ${s.kind}] ${shown.map(([k, v]) => `${k}=${String(v).slice(0, 60)}`).join(" ")}`,
      );
      walk(s.spanId, depth + 1);
    }
  };
  walk("", 0);
  return lines.join("\n");
}

describe("tracing a tenant's creation", () => {
  it("puts the identity events the TenantDirectory writes in the request's trace", async () => {
    await fetch(`${receiver()}/spans`, { method: "DELETE" });
    const t = await newTenant();
    const { all, mine, traceId } = await poll(
      (spans) =>
        spans.find((s) => s.kind === 2 && !s.parentSpanId && attr(s, "url.path") === "/api/v1/platform/tenants"),
      (spans) =>
        spans.some((s) => s.name === "queue.message tenants.tenant.created" && attr(s, "plinth.outcome") === "acked"),
    );
    console.log(`trace ${traceId}: ${mine.length} of ${all.length} exported spans\n${tree(mine)}`);
    const created = mine.find((s) => s.name === "queue.message tenants.tenant.created");
    expect(created && attr(created, "tenant.id")).toBe(t.id);
    // Its parent is the directory's RPC server span, inside the POST's trace.
    const parent = mine.find((s) => s.spanId === created?.parentSpanId);
    expect(parent?.name).toMatch(/^TenantDirectory\./);
    const text = JSON.stringify(all);
    expect(text).not.toContain(t.adminKey);
    expect(text).not.toContain(env.PLATFORM_ROOT_KEY);
  });
});

describe("tracing one blog create", () => {
  it("puts the request, the command, the DO call, the outbox, the queue message and the projections in one trace", async () => {
    const t = await newTenant();
    await new Promise((r) => setTimeout(r, 1500)); // let the tenant's own traces drain
    await fetch(`${receiver()}/spans`, { method: "DELETE" });

    const created = await call("/api/v1/blog/posts?probe=secret-in-query", {
      token: t.adminKey,
      body: { title: "Traced", content: "Body" },
    });
    expect(created.status).toBe(201);

    // The root: this POST's SERVER span (no parent), then everything of its trace.
    const { all, mine, traceId } = await poll(
      (spans) => spans.find((s) => s.kind === 2 && !s.parentSpanId && attr(s, "url.path") === "/api/v1/blog/posts"),
      (spans) =>
        spans.some((s) => s.name === "queue.message blog.post.created" && attr(s, "plinth.outcome") === "acked") &&
        spans.some((s) => s.name === "projection.apply kernel:streams"),
    );
    console.log(`trace ${traceId}: ${mine.length} of ${all.length} exported spans\n${tree(mine)}`);
    console.log("traces seen:", [...new Set(all.map((s) => s.traceId))].length);
    const others = all.filter((s) => s.traceId !== traceId);
    if (others.length) console.log(`other traces:\n${tree(others)}`);

    expect(traceId).toBeDefined();
    // One tree: every span but the root has its parent in the trace.
    const ids = new Set(mine.map((s) => s.spanId));
    expect(mine.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId)).map((s) => s.name)).toEqual([
      "POST /api/v1/blog/posts",
    ]);
    const byName = (name: string) => mine.find((s) => s.name === name);
    const parentOf = (name: string) => mine.find((s) => s.spanId === byName(name)?.parentSpanId)?.name;
    expect(parentOf("command post.create")).toBe("POST /api/v1/blog/posts");
    expect(parentOf("rpc Aggregate.handle")).toBe("command post.create");
    expect(parentOf("Aggregate.handle")).toBe("rpc Aggregate.handle");
    expect(parentOf("projection.apply blog:blog.posts")).toBe("Aggregate.handle");
    expect(parentOf("outbox.drain")).toBe("Aggregate.handle");
    expect(parentOf("queue.message blog.post.created")).toBe("Aggregate.handle");
    expect(byName("middleware auth")).toBeDefined();
    expect(mine.some((s) => attr(s, "db.system") === "Cloudflare D1")).toBe(true);
    const command = mine.find((s) => s.name.startsWith("command "));
    expect(command && attr(command, "plinth.command")).toBe("create");
    expect(command && attr(command, "plinth.module")).toBe("blog");
    expect(command && attr(command, "tenant.id")).toBe(t.id);
    // No secret or body in any attribute.
    const text = JSON.stringify(all);
    expect(text).not.toContain(t.adminKey);
    expect(text).not.toContain(env.PLATFORM_ROOT_KEY);
    expect(text).not.toContain("not-a-secret"); // OTEL_EXPORTER_OTLP_HEADERS' value
    expect(text).not.toContain("Body");
    expect(text).not.toContain("url.query");
    expect(text).not.toContain("secret-in-query");
  });
});
