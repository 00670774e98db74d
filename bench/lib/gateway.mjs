/**
 * The rate limiter in the bench: what a decision costs in each way it is made
 * (from the throughput rounds), and how many requests it admits when sent ten
 * times its rate (a run of its own per mode).
 */
import { load } from "./load.mjs";
import { fmt, mdTable, median } from "./report.mjs";
import { brief } from "./rounds.mjs";

/**
 * @typedef {object} OverloadRow
 * @property {string} mode
 * @property {number} sent
 * @property {number} admitted 200s
 * @property {number} refused 429s
 * @property {number} other any other status or error
 * @property {number} bound most the policy admits in the run: burst + limit × duration / period
 */

/**
 * Sends each overload Worker ten times its policy's rate for one period, with one principal.
 * @param {{ origins: Map<string, string>, workers: Record<string, string>,
 *   setup: (origin: string) => Promise<{ headers?: Record<string, string> }>,
 *   policy: { limit: number, period_s: number, burst: number }, notes: string[] }} opts
 *   workers: mode -> worker name
 * @returns {Promise<OverloadRow[]>}
 */
export async function overloadRuns({ origins, workers, setup, policy, notes }) {
  const rows = [];
  const rate = policy.limit / policy.period_s;
  for (const [mode, worker] of Object.entries(workers)) {
    const origin = origins.get(worker);
    if (!origin) continue;
    try {
      const { headers } = await setup(origin);
      console.log(`bench: rate limit overload (${mode}): ${rate * 10} req/s for ${policy.period_s} s…`);
      const r = await load({
        url: new URL("/api/v1/me", origin).href,
        headers,
        connections: 10,
        duration: policy.period_s,
        overallRate: rate * 10,
      });
      const admitted = r.statuses["200"] ?? 0;
      const refused = r.statuses["429"] ?? 0;
      rows.push({
        mode,
        sent: r.total,
        admitted,
        refused,
        other: r.total - admitted - refused + r.errors,
        bound: policy.burst + Math.ceil(rate * policy.period_s),
      });
    } catch (err) {
      notes.push(`rate limit overload (${mode}): ${brief(err)}`);
    }
  }
  return rows;
}

/** A difference in ms with its sign: +3.0, -2.0. */
const signed = (/** @type {number} */ ms) => `${ms >= 0 ? "+" : ""}${fmt(ms, 1)}`;

/**
 * The "Rate limiting" section of REPORT.md.
 * @param {{ results: Map<string, import("./load.mjs").LoadResult[]>, names: { async: string, sync: string,
 *   blocked: string, baseline: string }, overload: OverloadRow[],
 *   policy: { limit: number, period_s: number, burst: number } }} opts
 */
export function gatewaySection({ results, names, overload, policy }) {
  const stat = (/** @type {string} */ name, /** @type {"p50" | "p99" | "rps"} */ key) =>
    median((results.get(name) ?? []).map((r) => r[key]));
  const base = { p50: stat(names.baseline, "p50"), p99: stat(names.baseline, "p99") };
  const costRows = [
    ["async (the isolate's estimate; reconciled after the response)", names.async],
    ["sync (the key's Durable Object first)", names.sync],
    ["blocked-until cache (a key over its limit, 429)", names.blocked],
  ]
    .filter(([, name]) => results.has(name))
    .map(([label, name]) => [
      label,
      fmt(stat(name, "rps"), 0),
      fmt(stat(name, "p50"), 1),
      fmt(stat(name, "p99"), 1),
      signed(stat(name, "p50") - base.p50),
      signed(stat(name, "p99") - base.p99),
    ]);
  const cost = mdTable(
    ["decision", "req/s", "p50 ms", "p99 ms", "p50 vs baseline ms", "p99 vs baseline ms"],
    costRows,
    [false, true, true, true, true, true],
  );
  const over = mdTable(
    ["mode", "sent", "admitted (200)", "refused (429)", "other", "most the policy admits", "admitted / most"],
    overload.map((o) => [
      o.mode,
      String(o.sent),
      String(o.admitted),
      String(o.refused),
      String(o.other),
      String(o.bound),
      `${fmt(o.admitted / o.bound, 2)}×`,
    ]),
    [false, true, true, true, true, true, true],
  );
  const sync = overload.find((o) => o.mode === "sync");
  const async = overload.find((o) => o.mode === "async");
  const reading = [
    `Each request of the three rows is the same \`GET /api/v1/me\` with an API key; only how the \`principal\` and \`tenant\` policies decide differs, so the rows differ by the decision's cost. The full request path (tenant, API key, RBAC, rate limits, the tenant's directory) is the "admin/settings" row of the throughput table.`,
    sync
      ? `At ten times its rate (${policy.limit} per ${policy.period_s} s, bursts of ${policy.burst}), the sync limiter admitted ${sync.admitted} of ${sync.sent}: ${sync.admitted <= sync.bound ? "never more than" : "MORE than"} the ${sync.bound} the policy allows over the run.`
      : "The sync overload run did not run.",
    async
      ? `The async limiter admitted ${async.admitted} (${fmt(async.admitted / async.bound, 2)}× the most allowed). Under Miniflare every request is served by one isolate, whose estimate is then exact; deployed, each isolate decides from its own estimate until it hears from the Durable Object, so it may admit up to one burst (${policy.burst}) more per isolate that serves the key, plus what arrives while its report (batched, at most one per 100 ms) is under way — use sync where the limit must hold exactly (credentials, mail).`
      : "The async overload run did not run.",
  ];
  return `## Rate limiting

${cost}

${over}

${reading.join(" ")}
`;
}
