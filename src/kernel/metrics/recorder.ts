import type { MetricDef } from "./catalog";

/**
 * One series' change since the last flush (or, in the aggregator, its
 * cumulative value): a counter's increment in `value`; a histogram's count in
 * `value`, its sum in `sum` and its per-bucket counts (not cumulative; one
 * more than the declared bounds, the last for values above them all) in
 * `buckets`.
 */
export interface SeriesPoint {
  name: string;
  /** Label values, in the order of the metric's declared label names. */
  labels: string[];
  value: number;
  sum?: number;
  buckets?: number[];
}

/** Most label value characters kept; longer ones are cut (route patterns and names are short). */
const MAX_LABEL_CHARS = 128;
/** Most series one isolate holds between flushes; observations of further series are counted as dropped. */
export const MAX_ISOLATE_SERIES = 2000;

/** The key of a series: its name and label values. */
export function seriesKey(name: string, labels: readonly string[]): string {
  return `${name}\u0000${labels.join("\u0001")}`;
}

/**
 * Where an isolate records metrics: synchronous, allocation-light, no I/O —
 * recording never awaits and never fails a request. `take()` hands the
 * changes since the last take to the flusher and starts afresh.
 *
 * @example
 * recorder.inc(METRICS.commands, ["blog_post", "update", "ok"]);
 * recorder.observe(METRICS.httpDuration, ["/api/v1/me", "GET"], 0.004);
 */
export class MetricsRecorder {
  private series = new Map<string, SeriesPoint>();
  private dropped = 0;

  constructor(private readonly maxSeries = MAX_ISOLATE_SERIES) {}

  /** Adds `by` to a counter. */
  inc(def: MetricDef, labels: readonly string[], by = 1): void {
    const point = this.point(def, labels);
    if (point) point.value += by;
  }

  /** Records one observation of a histogram (seconds, for the duration and lag metrics). */
  observe(def: MetricDef, labels: readonly string[], value: number): void {
    if (!Number.isFinite(value)) return;
    const point = this.point(def, labels);
    if (!point?.buckets) return;
    const bounds = def.buckets ?? [];
    let i = 0;
    while (i < bounds.length && value > (bounds[i] ?? Number.POSITIVE_INFINITY)) i++;
    point.buckets[i] = (point.buckets[i] ?? 0) + 1;
    point.value += 1;
    point.sum = (point.sum ?? 0) + value;
  }

  /** The changes since the last take (null when there are none), and a fresh start. */
  take(): SeriesPoint[] | null {
    if (this.dropped > 0) {
      const key = seriesKey("plinth_metrics_series_dropped_total", ["isolate"]);
      const known = this.series.get(key);
      if (known) known.value += this.dropped;
      else
        this.series.set(key, { name: "plinth_metrics_series_dropped_total", labels: ["isolate"], value: this.dropped });
      this.dropped = 0;
    }
    if (this.series.size === 0) return null;
    const points = [...this.series.values()];
    this.series = new Map();
    return points;
  }

  /** Series held now (for tests and the cap). */
  get size(): number {
    return this.series.size;
  }

  private point(def: MetricDef, labels: readonly string[]): SeriesPoint | null {
    const values = def.labels.map((_, i) => cut(labels[i] ?? ""));
    const key = seriesKey(def.name, values);
    let point = this.series.get(key);
    if (!point) {
      if (this.series.size >= this.maxSeries) {
        this.dropped++;
        return null;
      }
      point =
        def.kind === "histogram"
          ? {
              name: def.name,
              labels: values,
              value: 0,
              sum: 0,
              buckets: new Array((def.buckets?.length ?? 0) + 1).fill(0),
            }
          : { name: def.name, labels: values, value: 0 };
      this.series.set(key, point);
    }
    return point;
  }
}

function cut(value: string): string {
  return value.length > MAX_LABEL_CHARS ? value.slice(0, MAX_LABEL_CHARS) : value;
}

/** Adds `from` into `into` (same series): counters and counts add, bucket by bucket. */
export function addPoint(into: SeriesPoint, from: SeriesPoint): void {
  into.value += from.value;
  if (from.sum !== undefined) into.sum = (into.sum ?? 0) + from.sum;
  if (from.buckets) {
    const buckets = into.buckets ?? new Array(from.buckets.length).fill(0);
    from.buckets.forEach((n, i) => {
      buckets[i] = (buckets[i] ?? 0) + n;
    });
    into.buckets = buckets;
  }
}

/**
 * This isolate's recorder: the Worker's requests and queue batches and the
 * Durable Objects it hosts all record here; one flusher sends it on.
 */
export const isolateRecorder = new MetricsRecorder();
