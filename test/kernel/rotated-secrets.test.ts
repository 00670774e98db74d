// PLATFORM_ROOT_KEY and METRICS_TOKEN each take a `_PREVIOUS` value during a rotation: the old
// one keeps working, for exactly what the current one does, until the operator removes it, and
// each use of it is logged (by variable, never by value) and counted, so the operator sees
// when nothing sends it any more.

import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/kernel/config";
import { isolateMetrics } from "../../src/kernel/metrics/flush";
import { modules } from "../../src/modules";
import { expectProblem, testApp } from "../helpers";
import { callerOf } from "../identity/helpers";

const NEW_ROOT = `new-root-${"n".repeat(32)}`;
const OLD_ROOT = `old-root-${"o".repeat(32)}`;
const NEW_METRICS = "new-metrics-token-0123456789";
const OLD_METRICS = "old-metrics-token-0123456789";
const USES = "plinth_previous_secret_uses_total";
const DEPRECATED = "plinth-deprecated-credential";

/** The value of one sample line of Prometheus text, or 0 when the series is absent. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Every warning line logged while `run` ran, parsed. */
async function warnings(run: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const spy = vi.spyOn(console, "warn").mockImplementation(() => {});
  await run();
  return spy.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
}

afterEach(() => vi.restoreAllMocks());

describe("PLATFORM_ROOT_KEY_PREVIOUS", () => {
  const rotating = testApp(modules, { PLATFORM_ROOT_KEY: NEW_ROOT, PLATFORM_ROOT_KEY_PREVIOUS: OLD_ROOT });
  const call = callerOf(rotating.fetch);

  it("lets the old key in on platform routes alongside the new one, and refuses any other", async () => {
    expect((await call("/api/v1/platform/tenants", { token: NEW_ROOT })).status).toBe(200);
    expect((await call("/api/v1/platform/tenants", { token: OLD_ROOT })).status).toBe(200);
    const slug = `rot-${crypto.randomUUID().slice(0, 8)}`;
    const made = await call("/api/v1/platform/tenants", { token: OLD_ROOT, body: { slug, name: slug } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    await expectProblem(
      await rotating.fetch("/api/v1/platform/tenants", { headers: { authorization: `Bearer ${OLD_ROOT}x` } }),
      401,
      "unauthenticated",
    );
  });

  it("is refused once removed: without it the old key is unknown", async () => {
    const after = testApp(modules, { PLATFORM_ROOT_KEY: NEW_ROOT });
    await expectProblem(
      await after.fetch("/api/v1/platform/tenants", { headers: { authorization: `Bearer ${OLD_ROOT}` } }),
      401,
      "unauthenticated",
    );
  });

  it("is no more than the root key: refused off the platform routes, as the current key is", async () => {
    for (const key of [NEW_ROOT, OLD_ROOT]) {
      const res = await rotating.fetch("/api/v1/me", { headers: { authorization: `Bearer ${key}` } });
      const body = await expectProblem(res, 403, "forbidden");
      expect(body.detail).toContain("valid only on /api/v1/platform");
    }
  });

  it("logs and counts each use of the old key by its variable, never the value; the new key, not at all", async () => {
    const before = sample(
      await (await rotating.fetch("/metrics")).text(),
      `${USES}{variable="PLATFORM_ROOT_KEY_PREVIOUS"}`,
    );
    const lines = await warnings(async () => {
      expect((await call("/api/v1/platform/tenants", { token: NEW_ROOT })).status).toBe(200);
      expect((await call("/api/v1/platform/tenants", { token: OLD_ROOT })).status).toBe(200);
    });
    const noted = lines.filter((l) => String(l.msg).startsWith("request authenticated with a previous secret"));
    expect(noted).toHaveLength(1);
    expect(noted[0]?.variable).toBe("PLATFORM_ROOT_KEY_PREVIOUS");
    expect(JSON.stringify(lines)).not.toContain(OLD_ROOT);
    const after = sample(
      await (await rotating.fetch("/metrics")).text(),
      `${USES}{variable="PLATFORM_ROOT_KEY_PREVIOUS"}`,
    );
    expect(after - before).toBe(1);
  });

  it("tells the caller too: its responses, errors included, carry Plinth-Deprecated-Credential; the new key's do not", async () => {
    const listed = await call("/api/v1/platform/tenants", { token: OLD_ROOT });
    expect(listed.status).toBe(200);
    expect(listed.headers.get(DEPRECATED)).toBe("PLATFORM_ROOT_KEY_PREVIOUS");
    const slug = `dep-${crypto.randomUUID().slice(0, 8)}`;
    const made = await call("/api/v1/platform/tenants", { token: OLD_ROOT, body: { slug, name: slug } });
    expect(made.status).toBe(201);
    expect(made.headers.get(DEPRECATED)).toBe("PLATFORM_ROOT_KEY_PREVIOUS");
    // An error is rendered apart from the route's own answer: the caller still learns it.
    const missing = await call("/api/v1/platform/tenants/no-such-tenant", { token: OLD_ROOT });
    expect(missing.status).toBe(404);
    expect(missing.headers.get(DEPRECATED)).toBe("PLATFORM_ROOT_KEY_PREVIOUS");
    const invalid = await call("/api/v1/platform/tenants", { token: OLD_ROOT, body: { slug: "X" } });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get(DEPRECATED)).toBe("PLATFORM_ROOT_KEY_PREVIOUS");
    expect((await call("/api/v1/platform/tenants", { token: NEW_ROOT })).headers.has(DEPRECATED)).toBe(false);
  });

  it("keys nothing: ip_hash stays on the current root key", () => {
    const both = parseConfig({ ...env, PLATFORM_ROOT_KEY: NEW_ROOT, PLATFORM_ROOT_KEY_PREVIOUS: OLD_ROOT });
    const current = parseConfig({ ...env, PLATFORM_ROOT_KEY: NEW_ROOT });
    expect(both.ok && current.ok).toBe(true);
    if (both.ok && current.ok) expect(both.config.ipHashKey).toBe(current.config.ipHashKey);
  });
});

describe("METRICS_TOKEN_PREVIOUS", () => {
  const rotating = testApp(modules, { METRICS_TOKEN: NEW_METRICS, METRICS_TOKEN_PREVIOUS: OLD_METRICS });
  const scrape = (token: string) => rotating.fetch("/metrics", { headers: { authorization: `Bearer ${token}` } });

  it("lets a scrape with the old token in alongside the new one, counts and logs it, and refuses any other", async () => {
    const series = `${USES}{variable="METRICS_TOKEN_PREVIOUS"}`;
    const before = sample(await (await scrape(NEW_METRICS)).text(), series);
    let old = "";
    const lines = await warnings(async () => {
      const res = await scrape(OLD_METRICS);
      expect(res.status).toBe(200);
      old = await res.text();
    });
    // The scrape that used it already counts itself.
    expect(sample(old, series) - before).toBe(1);
    expect(lines.map((l) => l.variable)).toEqual(["METRICS_TOKEN_PREVIOUS"]);
    expect(JSON.stringify(lines)).not.toContain(OLD_METRICS);
    await expectProblem(await scrape(`${OLD_METRICS}x`), 401, "unauthenticated");
    await expectProblem(await rotating.fetch("/metrics"), 401, "unauthenticated");
  });

  it("tells the scraper in Plinth-Deprecated-Credential; the new token's scrape carries none", async () => {
    const old = await scrape(OLD_METRICS);
    expect(old.status).toBe(200);
    expect(old.headers.get(DEPRECATED)).toBe("METRICS_TOKEN_PREVIOUS");
    expect((await scrape(NEW_METRICS)).headers.has(DEPRECATED)).toBe(false);
  });

  it("tells it on a failed scrape too: the 500 of a flush that fails carries the header", async () => {
    vi.spyOn(isolateMetrics(), "flush").mockRejectedValue(new Error("metrics shard unreachable"));
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const old = await scrape(OLD_METRICS);
    expect(old.headers.get(DEPRECATED)).toBe("METRICS_TOKEN_PREVIOUS");
    await expectProblem(old, 500, "internal");
    const current = await scrape(NEW_METRICS);
    expect(current.headers.has(DEPRECATED)).toBe(false);
    await expectProblem(current, 500, "internal");
  });

  it("is refused once removed", async () => {
    const after = testApp(modules, { METRICS_TOKEN: NEW_METRICS });
    await expectProblem(
      await after.fetch("/metrics", { headers: { authorization: `Bearer ${OLD_METRICS}` } }),
      401,
      "unauthenticated",
    );
  });
});

describe("a previous value without the current one", () => {
  it("is config_invalid naming the variable, rather than an old credential working alone", async () => {
    for (const [name, value] of [
      ["PLATFORM_ROOT_KEY_PREVIOUS", OLD_ROOT],
      ["METRICS_TOKEN_PREVIOUS", OLD_METRICS],
    ] as const) {
      const parsed = parseConfig({ ...env, PLATFORM_ROOT_KEY: undefined, METRICS_TOKEN: undefined, [name]: value });
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.issues.map((i) => i.variable)).toEqual([name]);
    }
    const { fetch } = testApp(modules, { PLATFORM_ROOT_KEY: undefined, PLATFORM_ROOT_KEY_PREVIOUS: OLD_ROOT });
    const body = await expectProblem(await fetch("/healthz"), 500, "config_invalid");
    expect(body.detail).toContain("PLATFORM_ROOT_KEY_PREVIOUS");
    expect(body.detail).not.toContain(OLD_ROOT);
  });

  it("is held to the current value's length", () => {
    const parsed = parseConfig({ ...env, PLATFORM_ROOT_KEY: NEW_ROOT, PLATFORM_ROOT_KEY_PREVIOUS: "short" });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues.map((i) => i.variable)).toEqual(["PLATFORM_ROOT_KEY_PREVIOUS"]);
  });
});
