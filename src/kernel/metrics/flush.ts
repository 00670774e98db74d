import type { Clock } from "../clock";
import { newId } from "../crypto";
import { createLogger, errorFields, type Logger } from "../log";
import { realSleeper, type Sleeper } from "../resilience/sleep";
import { METRICS_SHARDS, metricsShard } from "./contract";
import { isolateRecorder, type MetricsRecorder, type SeriesPoint } from "./recorder";

/** Least time between two flushes of one isolate. */
export const FLUSH_INTERVAL_MS = 1000;

/**
 * How long a flush is waited for before it is taken for lost. A flush runs in the `waitUntil` of
 * whichever request or object started it; if that context is torn down first (its time limit, a
 * test file ending), its call to the aggregator never settles, and a flusher waiting on it would
 * never flush again and hold every `GET /metrics` of the isolate.
 */
export const FLUSH_STUCK_MS = 5_000;

/** Where a flush goes: the aggregator shard's `add`, or a fake in tests. */
export type MetricsSink = (
  env: Env,
  shard: number,
  flush: { id: string; now: number; series: SeriesPoint[] },
) => Promise<unknown>;

const aggregatorSink: MetricsSink = (env, shard, flush) => metricsShard(env, shard).add(flush);

/**
 * Sends an isolate's recorded metrics to its aggregator shard: at most about
 * once a second (`maybeFlush` after a request, in `waitUntil`), or at once
 * (`flush`, before `GET /metrics` reads). One flush at a time; a flush that
 * failed is sent again, under the same id, before anything newer — the
 * aggregator ignores an id it already added, so nothing is lost and nothing
 * counted twice.
 */
export class MetricsFlusher {
  private inFlight: { done: Promise<void>; startedAt: number } | null = null;
  private unsent: { id: string; series: SeriesPoint[] } | null = null;
  private last = Number.NEGATIVE_INFINITY;
  readonly shard: number;

  constructor(
    readonly recorder: MetricsRecorder,
    private readonly sink: MetricsSink = aggregatorSink,
    private readonly log: Pick<Logger, "warn"> = createLogger("warn", { component: "metrics" }),
    shard = Math.floor(Math.random() * METRICS_SHARDS),
    private readonly sleeper: Sleeper = realSleeper,
  ) {
    this.shard = shard;
  }

  /**
   * Starts a flush in `waitUntil` when the last one began a second or more
   * before `clock`'s now, or after it, and none is under way; otherwise nothing.
   *
   * `clock` is the caller's injected clock: the platform's for the Worker's requests, the one
   * an object is built over for its commits. In a deployment they are one clock; in the test
   * Worker an object's is one a test sets ahead, and a module may build its actor over its own.
   * The flusher is the isolate's, so it cannot hold one clock of its own without picking one of
   * theirs; a clock behind the last flush's time is taken for another one (or one moved back),
   * which flushes, rather than holding every flush of the isolate until it catches up (a day,
   * for a test's). One comparison, no more on the request's path; while clocks that disagree
   * alternate, each call may flush, one at a time. A flush under way for {@link FLUSH_STUCK_MS}
   * or more is taken for lost.
   */
  maybeFlush(env: Env | undefined, clock: Clock, waitUntil: (p: Promise<unknown>) => void): void {
    // No aggregator binding (a test's bare env, a misconfigured deploy that init reports): nothing to flush to.
    if (typeof env?.METRICS?.getByName !== "function") return;
    const now = clock.now().getTime();
    if (this.inFlight && Math.abs(now - this.inFlight.startedAt) < FLUSH_STUCK_MS) return;
    const since = now - this.last;
    if (!this.inFlight && since >= 0 && since < FLUSH_INTERVAL_MS) return;
    waitUntil(this.flush(env, clock));
  }

  /**
   * Flushes now (after a flush under way, waited for at most {@link FLUSH_STUCK_MS}, then what
   * came since). Never rejects. A flush given up on keeps its batch: the next one sends it again
   * under the same id, which the aggregator adds once.
   */
  async flush(env: Env, clock: Clock): Promise<void> {
    const under = this.inFlight;
    if (under) {
      const stop = new AbortController();
      const settled = await Promise.race([
        under.done.then(() => true),
        this.sleeper.sleep(FLUSH_STUCK_MS, stop.signal).then(
          () => false,
          () => true,
        ),
      ]);
      stop.abort();
      if (!settled && this.inFlight === under) {
        this.log.warn("metrics flush never settled; sending its batch again", { waited_ms: FLUSH_STUCK_MS });
        this.inFlight = null;
      }
    }
    const flight = { done: this.send(env, clock), startedAt: clock.now().getTime() };
    this.inFlight = flight;
    try {
      await flight.done;
    } finally {
      if (this.inFlight === flight) this.inFlight = null;
    }
  }

  private async send(env: Env, clock: Clock): Promise<void> {
    const now = clock.now().getTime();
    this.last = now;
    // What failed last time goes first, as it was; what was recorded since waits for the next flush.
    if (!this.unsent) {
      const series = this.recorder.take();
      if (!series) return;
      this.unsent = { id: newId(now), series };
    }
    const batch = this.unsent;
    try {
      await this.sink(env, this.shard, { ...batch, now });
      // A flush given up on that settles after all must not clear a newer batch.
      if (this.unsent === batch) this.unsent = null;
    } catch (error) {
      this.log.warn("metrics flush failed; will retry", { series: batch.series.length, ...errorFields(error) });
    }
  }
}

/** What `isolateMetrics` builds on first use. */
let shared: MetricsFlusher | null = null;

/**
 * This isolate's recorder and flusher: everything code in one isolate records
 * (the Worker's requests, its queue batches, the Durable Objects it hosts)
 * goes to one place and one flush.
 */
export function isolateMetrics(): MetricsFlusher {
  shared ??= new MetricsFlusher(isolateRecorder);
  return shared;
}

/**
 * Runs `work` with this isolate's recorder, then offers a flush however it ends: its early
 * returns (an outage's retries, an invalid config) and its throws included, so what a queue
 * batch counted reaches /metrics whichever isolate served it.
 */
export async function flushedAfter(
  env: Env,
  clock: Clock,
  waitUntil: (p: Promise<unknown>) => void,
  work: (recorder: MetricsRecorder) => Promise<void>,
): Promise<void> {
  const metrics = isolateMetrics();
  try {
    await work(metrics.recorder);
  } finally {
    metrics.maybeFlush(env, clock, waitUntil);
  }
}
