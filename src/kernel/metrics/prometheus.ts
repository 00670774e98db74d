import { ALL_METRICS, type MetricDef } from "./catalog";
import type { SeriesPoint } from "./recorder";

/** The content type of the text exposition format this renders. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A label value as the text format wants it: backslash, double quote and line feed escaped. */
function escapeValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escaping: backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function labelSet(pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return "";
  return `{${pairs.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(",")}}`;
}

/** A sample value: integers as such, other numbers in full precision, and Prometheus' spellings of the infinities. */
function num(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

function pairsOf(def: MetricDef, point: SeriesPoint): [string, string][] {
  return def.labels.map((name, i) => [name, point.labels[i] ?? ""]);
}

/**
 * Renders cumulative series in the Prometheus text exposition format 0.0.4:
 * per metric with samples, `# HELP` and `# TYPE`, then its samples sorted by
 * label values; a histogram as cumulative `_bucket{le=…}` lines ending with
 * `le="+Inf"`, then `_sum` and `_count`. Series of metrics not in the catalog
 * are left out (an older or newer isolate's), never rendered with a guessed type.
 */
export function renderPrometheus(series: readonly SeriesPoint[], defs: readonly MetricDef[] = ALL_METRICS): string {
  const byName = new Map<string, SeriesPoint[]>();
  for (const point of series) {
    const list = byName.get(point.name);
    if (list) list.push(point);
    else byName.set(point.name, [point]);
  }
  const lines: string[] = [];
  for (const def of defs) {
    const points = byName.get(def.name);
    if (!points || points.length === 0) continue;
    points.sort((a, b) => (a.labels.join("\u0000") < b.labels.join("\u0000") ? -1 : 1));
    lines.push(`# HELP ${def.name} ${escapeHelp(def.help)}`);
    lines.push(`# TYPE ${def.name} ${def.kind}`);
    for (const point of points) {
      const pairs = pairsOf(def, point);
      if (def.kind === "counter") {
        lines.push(`${def.name}${labelSet(pairs)} ${num(point.value)}`);
        continue;
      }
      const bounds = def.buckets ?? [];
      let cumulative = 0;
      bounds.forEach((bound, i) => {
        cumulative += point.buckets?.[i] ?? 0;
        lines.push(`${def.name}_bucket${labelSet([...pairs, ["le", num(bound)]])} ${cumulative}`);
      });
      lines.push(`${def.name}_bucket${labelSet([...pairs, ["le", "+Inf"]])} ${num(point.value)}`);
      lines.push(`${def.name}_sum${labelSet(pairs)} ${num(point.sum ?? 0)}`);
      lines.push(`${def.name}_count${labelSet(pairs)} ${num(point.value)}`);
    }
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}
