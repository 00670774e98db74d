import { type Clock, systemClock } from "../clock";
import { lapsed } from "../clock/lapsed";
import { newId } from "../crypto";
import { createLogger, errorFields, type Logger } from "../log";
import { METRICS_SHARDS, metricsShard } from "./contract";
import { isolateRecorder, type MetricsRecorder, type SeriesPoint } from "./recorder";

/** Least time between two flushes of one isolate. */
export const FLUSH_INTERVAL_MS = 1000;

/**
 * How long a batch may be under way before another flush takes it for lost and sends it again. A
 * flush runs in the `waitUntil` of whichever request or object started it; if that context is torn
 * down first (its time limit, a test file ending), its call to the aggregator never settles.
 */
export const FLUSH_STUCK_MS = 5_000;

/** Where a flush goes: the aggregator shard's `add`, or a fake in tests. */
export type MetricsSink = (
  env: Env,
  shard: number,
  flush: { id: string; now: number; series: SeriesPoint[] },
) => Promise<unknown>;

const aggregatorSink: MetricsSink = (env, shard, flush) => metricsShard(env, shard).add(flush);

/** Recordings taken from the recorder under an id, held until the aggregator has them. */
interface Batch {
  readonly id: string;
  readonly series: SeriesPoint[];
  /** When a flush began sending it, by the flusher's own clock; null while nobody is. */
  sendingSince: number | null;
}

/**
 * Sends an isolate's recorded metrics to its aggregator shard: at most about once a second
 * (`maybeFlush` after a request, in `waitUntil`), or at once (`flush`, before `GET /metrics`
 * reads). Recordings leave the recorder as a batch with an id and stay held until the aggregator
 * has it; a batch that failed is sent again, under the same id, before anything newer — the
 * aggregator adds an id once, so nothing is lost and nothing counted twice.
 *
 * The flusher is the isolate's, shared by every request and object the isolate runs, and each
 * flush runs in the context that started it. So what flushes share is plain data (the held
 * batches), never a promise: the runtime ties a promise's I/O to the context that made it, and a
 * flush that awaited another context's call failed ("Cannot perform I/O on behalf of a different
 * Durable Object") or, when that context was torn down, waited for a call that never settles.
 */
export class MetricsFlusher {
  private held: Batch[] = [];
  private last = Number.NEGATIVE_INFINITY;
  readonly shard: number;

  constructor(
    readonly recorder: MetricsRecorder,
    private readonly sink: MetricsSink = aggregatorSink,
    private readonly log: Pick<Logger, "warn"> = createLogger("warn", { component: "metrics" }),
    shard = Math.floor(Math.random() * METRICS_SHARDS),
    /**
     * Measures how long a batch has been under way. Not a caller's clock: those a test sets apart
     * (years, for some) would make every batch another caller is sending look lost, each flush
     * resent it and warned (hundreds of warnings a test run). A deployment has one clock anyway.
     */
    private readonly clock: Clock = systemClock,
  ) {
    this.shard = shard;
  }

  /**
   * Starts a flush in `waitUntil` when the last one began a second or more before `clock`'s now,
   * or after it; otherwise nothing.
   *
   * `clock` is the caller's injected clock: the platform's for the Worker's requests, the one
   * an object is built over for its commits. In a deployment they are one clock; in the test
   * Worker an object's is one a test sets ahead, and a module may build its actor over its own.
   * The flusher is the isolate's, so it cannot hold one clock of its own without picking one of
   * theirs; a clock behind the last flush's time is taken for another one (or one moved back),
   * which flushes, rather than holding every flush of the isolate until it catches up (a day,
   * for a test's). One comparison, no more on the request's path.
   */
  maybeFlush(env: Env | undefined, clock: Clock, waitUntil: (p: Promise<unknown>) => void): void {
    // No aggregator binding (a test's bare env, a misconfigured deploy that init reports): nothing to flush to.
    if (typeof env?.METRICS?.getByName !== "function") return;
    const since = clock.now().getTime() - this.last;
    if (since >= 0 && since < FLUSH_INTERVAL_MS) return;
    waitUntil(this.send(env, clock, false));
  }

  /**
   * Flushes now, for a reader that must see everything recorded so far: every held batch,
   * including one another flush is still sending (sent again under its id, which the aggregator
   * adds once), then what was recorded since. Never rejects.
   */
  flush(env: Env, clock: Clock): Promise<void> {
    return this.send(env, clock, true);
  }

  /**
   * Sends the held batches in order, then takes what was recorded since as a new batch and sends
   * it; stops at the first that fails (the aggregator is unreachable: the rest would fail too, and
   * what the recorder holds keeps adding up until the next flush). A batch another flush began
   * sending under {@link FLUSH_STUCK_MS} ago is left to it unless `all`, and so is everything newer.
   */
  private async send(env: Env, clock: Clock, all: boolean): Promise<void> {
    const now = clock.now().getTime();
    this.last = now;
    for (const batch of [...this.held]) {
      if (!this.held.includes(batch)) continue; // another flush got it there meanwhile
      const own = this.clock.now().getTime();
      const underWay = batch.sendingSince !== null && !lapsed(batch.sendingSince, own, FLUSH_STUCK_MS);
      if (underWay && !all) return;
      if (batch.sendingSince !== null && !underWay) {
        this.log.warn("metrics flush never settled; sending its batch again", { waited_ms: own - batch.sendingSince });
      }
      if (!(await this.sendBatch(env, batch, now))) return;
    }
    const series = this.recorder.take();
    if (!series) return;
    const batch: Batch = { id: newId(now), series, sendingSince: null };
    this.held.push(batch);
    await this.sendBatch(env, batch, now);
  }

  /** Sends one held batch; true once the aggregator has it (and it is no longer held). */
  private async sendBatch(env: Env, batch: Batch, now: number): Promise<boolean> {
    const claim = this.clock.now().getTime();
    batch.sendingSince = claim;
    try {
      await this.sink(env, this.shard, { id: batch.id, series: batch.series, now });
      this.held = this.held.filter((b) => b !== batch);
      return true;
    } catch (error) {
      // Another flush may have begun sending it again meanwhile; only this flush's claim is released.
      if (batch.sendingSince === claim) batch.sendingSince = null;
      this.log.warn("metrics flush failed; will retry", { series: batch.series.length, ...errorFields(error) });
      return false;
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
