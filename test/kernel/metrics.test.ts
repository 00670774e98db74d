// Metrics: recorded in the isolate with no I/O, flushed to the aggregator
// shards under flush ids (a retried flush counts once), summed across
// isolates, and rendered in Prometheus' text format by GET /metrics.
import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Clock, manualClock, systemClock } from "../../src/kernel/clock";
import { METRICS, type MetricDef } from "../../src/kernel/metrics/catalog";
import { METRICS_SHARDS, metricsShard } from "../../src/kernel/metrics/contract";
import { FLUSH_STUCK_MS, MetricsFlusher, type MetricsSink } from "../../src/kernel/metrics/flush";
import { renderPrometheus } from "../../src/kernel/metrics/prometheus";
import { MetricsRecorder } from "../../src/kernel/metrics/recorder";
import { modules } from "../../src/modules";
import { expectProblem, testApp } from "../helpers";
import { call, newTenant } from "../identity/helpers";

const ORIGIN = "http://plinth.test";

/** The value of one sample line of Prometheus text, or 0 when the series is absent. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const scrape = async () => {
  const res = await SELF.fetch(`${ORIGIN}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
};

describe("renderPrometheus", () => {
  const counter: MetricDef = { name: "t_events_total", help: "Events.\nTwo lines", kind: "counter", labels: ["kind"] };
  const histogram: MetricDef = {
    name: "t_seconds",
    help: "Durations.",
    kind: "histogram",
    labels: ["route"],
    buckets: [0.1, 1],
  };

  it("writes HELP and TYPE, escapes label values, and renders histograms cumulatively with +Inf, _sum and _count", () => {
    const recorder = new MetricsRecorder();
    recorder.inc(counter, ['a"b\\c\nd'], 2);
    recorder.inc(counter, ["plain"]);
    for (const v of [0.05, 0.1, 0.5, 3]) recorder.observe(histogram, ["/x/{id}"], v);
    const text = renderPrometheus(recorder.take() ?? [], [counter, histogram]);
    expect(text).toBe(
      [
        "# HELP t_events_total Events.\\nTwo lines",
        "# TYPE t_events_total counter",
        't_events_total{kind="a\\"b\\\\c\\nd"} 2',
        't_events_total{kind="plain"} 1',
        "# HELP t_seconds Durations.",
        "# TYPE t_seconds histogram",
        't_seconds_bucket{route="/x/{id}",le="0.1"} 2',
        't_seconds_bucket{route="/x/{id}",le="1"} 3',
        't_seconds_bucket{route="/x/{id}",le="+Inf"} 4',
        't_seconds_sum{route="/x/{id}"} 3.65',
        't_seconds_count{route="/x/{id}"} 4',
        "",
      ].join("\n"),
    );
  });

  it("a recorder holds at most its cap of series and counts what it dropped", () => {
    const recorder = new MetricsRecorder(3);
    for (let i = 0; i < 5; i++) recorder.inc(counter, [`k${i}`]);
    const points = recorder.take() ?? [];
    expect(points.filter((p) => p.name === "t_events_total")).toHaveLength(3);
    expect(points.find((p) => p.name === "plinth_metrics_series_dropped_total")).toMatchObject({
      labels: ["isolate"],
      value: 2,
    });
    expect(recorder.take()).toBeNull();
  });
});

describe("the isolate's flusher", () => {
  it("flushes at most once a second by its caller's clock, and a clock set ahead holds no other caller's flushes", async () => {
    // One flusher per isolate, called with the clock of each caller: the Worker's requests with
    // the platform's, an object with the one it is built over (in the test Worker, one a test sets
    // a day ahead). Behind the last flush's time is another clock, or one moved back: it flushes.
    const sent: string[] = [];
    const sink: MetricsSink = async (_e, _shard, flush) => {
      sent.push(new Date(flush.now).toISOString());
    };
    const flusher = new MetricsFlusher(new MetricsRecorder(), sink, { warn: () => {} }, 0);
    const runtime = manualClock("2030-01-01T00:00:00Z");
    const objectsClock = manualClock("2030-01-02T00:00:00Z");
    const callWith = async (clock: Clock) => {
      flusher.recorder.inc(METRICS.httpRequests, ["/flusher", "GET", "2xx", "none"]);
      const started: Promise<unknown>[] = [];
      flusher.maybeFlush(env, clock, (p) => started.push(p));
      await Promise.all(started);
    };

    await callWith(runtime);
    await callWith(runtime); // the same second: the second request's count waits for the next flush
    await callWith(objectsClock);
    await callWith(runtime);
    runtime.advance(999);
    await callWith(runtime);
    runtime.advance(1);
    await callWith(runtime);
    expect(sent).toEqual([
      "2030-01-01T00:00:00.000Z",
      "2030-01-02T00:00:00.000Z",
      "2030-01-01T00:00:00.000Z",
      "2030-01-01T00:00:01.000Z",
    ]);
  });
});

describe("a flush that never settles", () => {
  it("leaves its batch, and what came since, to it for FLUSH_STUCK_MS; then the next flush sends it again, under the same id", async () => {
    // Its request's context was torn down under it (a time limit, a test file ending): the call to
    // the aggregator never settles. Waiting on it for ever held every later flush and GET /metrics.
    const sent: { id: string; n: number }[] = [];
    let calls = 0;
    const sink: MetricsSink = (_e, _shard, flush) => {
      calls++;
      if (calls === 1) return new Promise<never>(() => {});
      sent.push({ id: flush.id, n: flush.series.length });
      return Promise.resolve();
    };
    const clock = manualClock("2030-01-01T00:00:00Z");
    const warned: string[] = [];
    // The same clock for the callers and the flusher's own, as in a deployment.
    const flusher = new MetricsFlusher(new MetricsRecorder(), sink, { warn: (msg) => void warned.push(msg) }, 0, clock);
    const due = async () => {
      const started: Promise<unknown>[] = [];
      flusher.maybeFlush(env, clock, (p) => started.push(p));
      await Promise.all(started);
    };
    flusher.recorder.inc(METRICS.httpRequests, ["/stuck", "GET", "2xx", "none"]);
    void flusher.maybeFlush(env, clock, () => {}); // its call never settles
    flusher.recorder.inc(METRICS.httpRequests, ["/since", "GET", "2xx", "none"]);
    flusher.recorder.inc(METRICS.httpRequests, ["/since", "GET", "2xx", "none"]);
    clock.advance(1000); // due again, but the batch is under way: it and what came since wait
    await due();
    clock.advance(FLUSH_STUCK_MS - 1001);
    await due();
    expect(sent).toEqual([]);
    clock.advance(1001); // the flush that runs after FLUSH_STUCK_MS takes the first for lost
    await due();
    expect(warned).toEqual(["metrics flush never settled; sending its batch again"]);
    expect(calls).toBe(3);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.id).not.toBe(sent[0]?.id);
    expect(sent.map((s) => s.n)).toEqual([1, 1]);
  });

  it("is left to its flush by callers whose clocks are set apart: how long it has been under way is the flusher's own time", async () => {
    // In the test Worker an object's clock may be a day (or years) ahead of the Worker's: measured
    // by callers' clocks, every batch another caller was sending looked lost, and was resent with a warning.
    let calls = 0;
    const sink: MetricsSink = () => {
      calls++;
      return new Promise<never>(() => {});
    };
    const own = manualClock("2030-01-01T00:00:00Z");
    const warned: string[] = [];
    const flusher = new MetricsFlusher(new MetricsRecorder(), sink, { warn: (m) => void warned.push(m) }, 0, own);
    flusher.recorder.inc(METRICS.httpRequests, ["/apart", "GET", "2xx", "none"]);
    flusher.maybeFlush(env, manualClock("2030-01-01T00:00:00Z"), () => {});
    flusher.maybeFlush(env, manualClock("2030-01-02T00:00:00Z"), () => {});
    flusher.maybeFlush(env, manualClock("2029-12-31T00:00:00Z"), () => {});
    await Promise.resolve();
    expect(calls).toBe(1);
    expect(warned).toEqual([]);
    own.advance(FLUSH_STUCK_MS);
    flusher.maybeFlush(env, manualClock("2030-01-03T00:00:00Z"), () => {});
    await Promise.resolve();
    expect(calls).toBe(2);
    expect(warned).toEqual(["metrics flush never settled; sending its batch again"]);
  });

  it("is taken for lost when the flusher's own clock is set back FLUSH_STUCK_MS: how long it was held cannot be told", async () => {
    // Measured as "now minus when it began", a clock set back made the batch look under way until
    // the clock caught up again: every flush left it, and what came after it, unsent meanwhile.
    let calls = 0;
    const sink: MetricsSink = () => {
      calls++;
      return calls === 1 ? new Promise<never>(() => {}) : Promise.resolve();
    };
    const own = manualClock("2030-01-01T00:00:00Z");
    const warned: string[] = [];
    const flusher = new MetricsFlusher(new MetricsRecorder(), sink, { warn: (m) => void warned.push(m) }, 0, own);
    flusher.recorder.inc(METRICS.httpRequests, ["/back", "GET", "2xx", "none"]);
    flusher.maybeFlush(env, own, () => {});
    await Promise.resolve();
    own.advance(-(FLUSH_STUCK_MS - 1));
    flusher.maybeFlush(env, own, () => {});
    await Promise.resolve();
    expect(calls).toBe(1);
    own.advance(-1);
    flusher.maybeFlush(env, own, () => {});
    await Promise.resolve();
    expect(calls).toBe(2);
    expect(warned).toEqual(["metrics flush never settled; sending its batch again"]);
  });

  it("is not waited for by a scrape's flush: it sends that batch again under its id, then what came since, each counted once", async () => {
    // The first flush's call reached the aggregator, but its context is gone and the call never
    // settles for it. A scrape right after must still read both requests, without waiting.
    const label = `unsettled-${crypto.randomUUID()}`;
    const real: MetricsSink = (e, shard, flush) => metricsShard(e, shard).add(flush);
    let calls = 0;
    const sink: MetricsSink = async (e, shard, flush) => {
      calls++;
      await real(e, shard, flush);
      if (calls === 1) await new Promise<never>(() => {});
    };
    const flusher = new MetricsFlusher(new MetricsRecorder(), sink, { warn: () => {} }, 0);
    flusher.recorder.inc(METRICS.httpRequests, [label, "GET", "2xx", "none"]);
    void flusher.flush(env, systemClock);
    flusher.recorder.inc(METRICS.httpRequests, [label, "GET", "2xx", "none"]);
    await flusher.flush(env, systemClock);
    expect(calls).toBe(3);
    const text = await scrape();
    expect(sample(text, `plinth_http_requests_total{route="${label}",method="GET",status="2xx",tenant="none"}`)).toBe(
      2,
    );
  });
});

describe("a flush that failed", () => {
  it("is sent again, under its id, by the next flush, and then what was recorded since in the same flush", async () => {
    // A scrape flushes first so that the requests just served are counted: after a failed flush,
    // it once sent the old batch alone, and the newer counts waited for a flush a second later.
    const sent: { id: string; routes: string[] }[] = [];
    let fail = true;
    const sink: MetricsSink = async (_e, _shard, flush) => {
      if (fail) {
        fail = false;
        throw new Error("aggregator unreachable");
      }
      sent.push({ id: flush.id, routes: flush.series.map((p) => String(p.labels[0])) });
    };
    const flusher = new MetricsFlusher(new MetricsRecorder(), sink, { warn: () => {} }, 0);
    flusher.recorder.inc(METRICS.httpRequests, ["/before", "GET", "2xx", "none"]);
    await flusher.flush(env, systemClock);
    expect(sent).toEqual([]);
    flusher.recorder.inc(METRICS.httpRequests, ["/after", "GET", "2xx", "none"]);
    await flusher.flush(env, systemClock);
    expect(sent.map((s) => s.routes)).toEqual([["/before"], ["/after"]]);
    expect(sent[0]?.id).not.toBe(sent[1]?.id);
    await flusher.flush(env, systemClock);
    expect(sent).toHaveLength(2);
  });
});

describe("the aggregator", () => {
  it("adds a flush id once, refuses points of undeclared or misshapen metrics, and keeps sums across flushes", async () => {
    const shard = metricsShard(env, 0);
    const label = `agg-${crypto.randomUUID()}`;
    const point = { name: METRICS.authFailures.name, labels: [label], value: 2 };
    const now = systemClock.now().getTime();
    expect(await shard.add({ id: `f-${label}`, now, series: [point] })).toEqual({ applied: true, dropped: 0 });
    expect(await shard.add({ id: `f-${label}`, now, series: [point] })).toEqual({ applied: false, dropped: 0 });
    const bad = [
      { name: "not_declared_total", labels: ["x"], value: 1 },
      { name: METRICS.authFailures.name, labels: [label, "extra"], value: 1 },
      { name: METRICS.httpDuration.name, labels: ["/r", "GET"], value: 1, sum: 1, buckets: [1] },
    ];
    expect(await shard.add({ id: `g-${label}`, now, series: [point, ...bad] })).toEqual({ applied: true, dropped: 3 });
    const mine = (await shard.series({})).find((p) => p.labels[0] === label);
    expect(mine?.value).toBe(4);
  });
});

describe("GET /metrics", () => {
  it("counts exactly the requests of several isolates: each flushes to its own shard, a failed flush is retried under its id", async () => {
    const label = `isolates-${crypto.randomUUID()}`;
    const real: MetricsSink = (e, shard, flush) => metricsShard(e, shard).add(flush);
    // The first flush of isolate 0 reaches the aggregator but its answer is lost: the retry must not count twice.
    let lose = true;
    const lossy: MetricsSink = async (e, shard, flush) => {
      await real(e, shard, flush);
      if (lose) {
        lose = false;
        throw new Error("connection reset after the call");
      }
    };
    const quiet = { warn: () => {} };
    const isolates = [0, 1, 2, 3, 4].map(
      (i) => new MetricsFlusher(new MetricsRecorder(), i === 0 ? lossy : real, quiet, i % METRICS_SHARDS),
    );
    let sent = 0;
    for (const [i, isolate] of isolates.entries()) {
      for (let n = 0; n < 10 + i; n++) {
        isolate.recorder.inc(METRICS.httpRequests, [label, "GET", "2xx", "none"]);
        sent++;
      }
      await isolate.flush(env, systemClock);
    }
    await isolates[0]?.flush(env, systemClock); // the retry of the lost answer
    const text = await scrape();
    expect(sample(text, `plinth_http_requests_total{route="${label}",method="GET",status="2xx",tenant="none"}`)).toBe(
      sent,
    );
  });

  it("sees every request the Worker served, by route pattern, with a duration histogram", async () => {
    const series = 'plinth_http_requests_total{route="/healthz",method="GET",status="2xx",tenant="none"}';
    const before = sample(await scrape(), series);
    for (let i = 0; i < 7; i++) expect((await SELF.fetch(`${ORIGIN}/healthz`)).status).toBe(200);
    const text = await scrape();
    expect(sample(text, series)).toBe(before + 7);
    expect(
      sample(text, 'plinth_http_request_duration_seconds_count{route="/healthz",method="GET"}'),
    ).toBeGreaterThanOrEqual(before + 7);
    expect(text).toContain("# TYPE plinth_http_request_duration_seconds histogram");
  });

  it("counts refused credentials by reason and commands by outcome", async () => {
    const before = await scrape();
    const res = await SELF.fetch(`${ORIGIN}/api/v1/me`, {
      headers: { authorization: "Bearer not-a-known-key-0123456789" },
    });
    expect(res.status).toBe(401);
    const malformed = await SELF.fetch(`${ORIGIN}/api/v1/me`, { headers: { authorization: "Basic abc" } });
    expect(malformed.status).toBe(401);
    const after = await scrape();
    const delta = (s: string) => sample(after, s) - sample(before, s);
    expect(delta('plinth_auth_failures_total{reason="unknown_credential"}')).toBe(1);
    expect(delta('plinth_auth_failures_total{reason="malformed_header"}')).toBe(1);
  });

  it("counts commands by aggregate, command and outcome, and times the Aggregate object's RPCs", async () => {
    const tenant = await newTenant("metrics");
    const created = await call("/api/v1/blog/posts", { token: tenant.adminKey, body: { title: "m", content: "" } });
    const path = `/api/v1/blog/posts/${String(created.body.id)}`;
    const before = await scrape();
    expect((await call(path, { method: "PATCH", token: tenant.adminKey, body: { content: "one" } })).status).toBe(200);
    expect((await call(path, { method: "PATCH", token: tenant.adminKey, body: { content: "two" } })).status).toBe(200);
    const stale = await call(path, {
      method: "PATCH",
      token: tenant.adminKey,
      body: { content: "x" },
      headers: { "if-match": '"1"' },
    });
    expect(stale.status).toBe(412);
    const after = await scrape();
    const delta = (s: string) => sample(after, s) - sample(before, s);
    expect(delta('plinth_commands_total{aggregate="post",command="update",outcome="ok"}')).toBe(2);
    expect(delta('plinth_commands_total{aggregate="post",command="update",outcome="version_conflict"}')).toBe(1);
    // Two committed events, counted into the outbox (the 412 appended nothing).
    expect(delta('plinth_outbox_appended_total{object="Aggregate"}')).toBe(2);
    expect(
      delta('plinth_do_rpc_duration_seconds_count{object="Aggregate",method="handle",outcome="ok"}'),
    ).toBeGreaterThanOrEqual(3);
  });

  it("answers in the text format's content type, uncached", async () => {
    const res = await SELF.fetch(`${ORIGIN}/metrics`);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("with METRICS_TOKEN set, answers 401 without the token or with another, and the metrics with it", async () => {
    const token = "metrics-token-0123456789abcdef";
    const { fetch } = testApp(modules, { METRICS_TOKEN: token });
    const refused = await fetch("/metrics");
    // RFC 9110: a 401 names the scheme it wants.
    expect(refused.headers.get("www-authenticate")).toBe("Bearer");
    await expectProblem(refused, 401, "unauthenticated");
    await expectProblem(
      await fetch("/metrics", { headers: { authorization: `Bearer ${token}x` } }),
      401,
      "unauthenticated",
    );
    const ok = await fetch("/metrics", { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("# TYPE plinth_http_requests_total counter");
  });

  it("in staging and production, stays closed without METRICS_TOKEN instead of open to anyone", async () => {
    for (const ENVIRONMENT of ["staging", "production"]) {
      const { fetch } = testApp(modules, { ENVIRONMENT });
      const refused = await fetch("/metrics");
      const body = await expectProblem(refused, 401, "unauthenticated");
      expect(body.detail).toContain("METRICS_TOKEN");
    }
    const { fetch } = testApp(modules, { ENVIRONMENT: "development" });
    expect((await fetch("/metrics")).status).toBe(200);
  });

  it("reads the METRICS_TOKEN scheme case-insensitively, as RFC 9110 has it (a scraper configured with type: bearer)", async () => {
    const token = "metrics-token-0123456789abcdef";
    const { fetch } = testApp(modules, { METRICS_TOKEN: token });
    for (const authorization of [`bearer ${token}`, `BEARER  ${token}`]) {
      expect((await fetch("/metrics", { headers: { authorization } })).status).toBe(200);
    }
    await expectProblem(
      await fetch("/metrics", { headers: { authorization: `Basic ${token}` } }),
      401,
      "unauthenticated",
    );
  });

  it("writes a data point per request to the Analytics Engine binding when one is bound", async () => {
    const points: AnalyticsEngineDataPoint[] = [];
    const ANALYTICS = { writeDataPoint: (p: AnalyticsEngineDataPoint) => void points.push(p) };
    const { fetch } = testApp(modules, { ANALYTICS });
    expect((await fetch("/healthz", { headers: { "x-request-id": "ae-1" } })).status).toBe(200);
    expect((await fetch("/nope")).status).toBe(404);
    expect(points).toHaveLength(2);
    expect(points[0]).toMatchObject({ indexes: [""], blobs: ["/healthz", "GET", "200", "none", "ae-1"] });
    expect(points[0]?.doubles?.[1]).toBe(200);
    expect(points[1]).toMatchObject({ blobs: ["unmatched", "GET", "404", "none", expect.any(String)] });
  });
});
