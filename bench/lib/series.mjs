/**
 * Sequential series: for requests too expensive for a throughput run (a login spends one
 * Argon2id hash), send a bounded number of them one at a time and time each, client side.
 */
import { fmt, mdTable, median, percentile } from "./report.mjs";
import { brief } from "./rounds.mjs";

/**
 * @typedef {object} SeriesCase one kind of request in a series
 * @property {string} label
 * @property {number} expect the status a valid sample must have
 * @property {string} path
 * @property {string} method
 * @property {Record<string, string>} headers
 * @property {string} body
 */

/**
 * @typedef {object} CaseResult
 * @property {string} label
 * @property {number} expect
 * @property {number[]} ms wall time of each sample with the expected status
 * @property {Record<string, number>} unexpected other statuses (0: no response) -> count
 */

/**
 * @typedef {object} SeriesResult
 * @property {CaseResult[]} cases
 * @property {number} count samples asked for per case
 * @property {number} warmup untimed requests per case first
 * @property {boolean} stoppedEarly the time budget ran out before `count` samples
 * @property {number} elapsedMs
 */

let stopped = false;
/** Stop a series in progress after its current request (for Ctrl-C). */
export function stopSeries() {
  stopped = true;
}

/**
 * Time one request: from sending it to having read the whole body.
 * @param {string} origin
 * @param {SeriesCase} c
 * @param {number} timeoutMs
 * @returns {Promise<{ status: number, ms: number }>} status 0 when no response came
 */
async function timeOne(origin, c, timeoutMs) {
  const started = performance.now();
  try {
    const res = await fetch(new URL(c.path, origin), {
      method: c.method,
      headers: c.headers,
      body: c.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started };
  } catch {
    return { status: 0, ms: performance.now() - started };
  }
}

/**
 * Run `warmup` untimed rounds, then up to `count` timed rounds; each round sends every case
 * once, in rotating order, so drift affects all cases alike. Stops early (after the request
 * in flight) once `budgetMs` has passed.
 * @param {{ origin: string, cases: SeriesCase[], count: number, warmup: number, budgetMs: number,
 *   timeoutMs: number }} opts
 * @returns {Promise<SeriesResult>}
 */
export async function runSeries({ origin, cases, count, warmup, budgetMs, timeoutMs }) {
  const started = Date.now();
  const results = cases.map((c) => ({ label: c.label, expect: c.expect, ms: [], unexpected: {} }));
  const overBudget = () => stopped || Date.now() - started > budgetMs;
  let stoppedEarly = false;
  for (let round = -warmup; round < count && !stoppedEarly; round++) {
    for (let i = 0; i < cases.length; i++) {
      if (overBudget()) {
        stoppedEarly = true;
        break;
      }
      const k = (i + Math.max(round, 0)) % cases.length;
      const { status, ms } = await timeOne(origin, cases[k], timeoutMs);
      if (round < 0) continue;
      /** @type {CaseResult} */
      const r = results[k];
      if (status === cases[k].expect) r.ms.push(ms);
      else r.unexpected[status] = (r.unexpected[status] ?? 0) + 1;
    }
  }
  return { cases: results, count, warmup, stoppedEarly, elapsedMs: Date.now() - started };
}

const statusList = (/** @type {Record<string, number>} */ u) =>
  Object.entries(u)
    .map(([status, n]) => `${n}× ${status === "0" ? "no response" : status}`)
    .join(", ");

/**
 * The series as a markdown table: one row per case, with its median relative to the first case's.
 * @param {SeriesResult} result
 */
export function seriesTable(result) {
  const firstMedian = median(result.cases[0]?.ms ?? []);
  const body = result.cases.map((c) => {
    const bad = statusList(c.unexpected);
    return [
      c.label,
      String(c.expect),
      String(c.ms.length),
      fmt(median(c.ms), 1),
      fmt(percentile(c.ms, 0.9), 1),
      fmt(Math.max(...c.ms), 1),
      bad ? `${bad} FAILED` : "0",
      `${fmt(median(c.ms) / firstMedian, 2)}×`,
    ];
  });
  const header = ["case", "status", "n", "median ms", "p90 ms", "max ms", "unexpected", "median vs first row"];
  return mdTable(header, body, [false, true, true, true, true, true, true, true]);
}

/**
 * A plain reading of a login series, generated from its numbers.
 * @param {SeriesResult} result
 */
export function loginReading(result) {
  const [ok, unknown] = result.cases;
  if (!ok || !unknown) return "The login series did not run.";
  return [
    `A successful login took a median of ${fmt(median(ok.ms), 1)} ms (p90 ${fmt(percentile(ok.ms, 0.9), 1)} ms) and one with an unknown email ${fmt(median(unknown.ms), 1)} ms: the unknown email's median is ${fmt(median(unknown.ms) / median(ok.ms), 2)}× the successful one's.`,
    "Both spend one Argon2id verification (19 MiB, t=2, p=1, in the WASM core, which the WebAssembly table below compares with the @noble JavaScript reference), which is most of the time; the rest is HTTP on loopback, the tenant lookup and two calls to the tenant's Durable Object (the lookup, then recording the success or the failure), and for a success the Ed25519 signature of the access token.",
    "A ratio near 1 means the response time does not tell whether an email has an account.",
    ...caveats(result),
  ].join(" ");
}

/**
 * A plain reading of a password-reset series, generated from its numbers.
 * @param {SeriesResult} result
 */
export function resetReading(result) {
  const [known, unknown] = result.cases;
  if (!known || !unknown) return "The password-reset series did not run.";
  const diff = median(known.ms) - median(unknown.ms);
  return [
    `A reset request for an existing email took a median of ${fmt(median(known.ms), 2)} ms and one for an unknown email ${fmt(median(unknown.ms), 2)} ms (ratio ${fmt(median(unknown.ms) / median(known.ms), 2)}×, a difference of ${fmt(diff, 2)} ms).`,
    "Both do the same work in the same order: hash a new token, one call to the tenant's Durable Object that commits one transaction with one event (the existing email's also stores the token and voids older ones), and answer 202; the mail goes out after the response.",
    "A ratio near 1 means the response time does not tell whether an email has an account.",
    ...caveats(result),
  ].join(" ");
}

/** @param {SeriesResult} result */
function caveats(result) {
  const out = [];
  if (result.stoppedEarly) {
    out.push(`The series hit its time budget after ${fmt(result.elapsedMs / 1000)} s and has fewer samples.`);
  }
  if (result.cases.some((c) => Object.keys(c.unexpected).length > 0)) {
    out.push("Some requests answered an unexpected status (see the table); they are left out of the timings.");
  }
  return out;
}

/**
 * @typedef {object} SeriesDef what a sequential series measures and how its section reads
 * @property {string} title the REPORT.md heading
 * @property {string} request what is sent, for the section's first sentence
 * @property {(result: SeriesResult) => string} reading
 */

/**
 * A series' section of REPORT.md.
 * @param {SeriesDef} def
 * @param {SeriesResult} result
 */
export function seriesSection(def, result) {
  return `## ${def.title}

Sequential ${def.request} requests, one at a time (no load generator, nothing else running): ${result.warmup} untimed warm-up(s) per case, then up to ${result.count} timed ones per case, alternating the cases. Each time is client-side wall time, from sending the request to reading the whole response. Throughput under concurrency would only show how many requests the cores can run at once, so it is not measured.

${seriesTable(result)}

${def.reading(result)}
`;
}

/**
 * A sequential series against the running Worker, as a REPORT.md section; problems go to `notes`.
 * @param {SeriesDef & { origin: string | undefined, name: string, worker: string,
 *   cases: (origin: string) => Promise<SeriesCase[]>, count: number, warmup: number,
 *   budgetS: number, timeoutS: number, notes: string[] }} opts origin: undefined if the
 *   Worker is not running
 * @returns {Promise<{ section: string, ok: boolean }>}
 */
export async function seriesPhase(opts) {
  const { origin, name, worker, cases: setup, count, warmup, budgetS, timeoutS, notes } = opts;
  const notRun = (/** @type {string} */ why) => ({ section: `## ${opts.title}\n\nNot run: ${why}.\n`, ok: false });
  if (!origin) return notRun(`${worker} is not running`);
  /** @type {SeriesCase[]} */
  let cases;
  try {
    cases = await setup(origin);
  } catch (err) {
    notes.push(`${name}: set-up failed: ${brief(err)}`);
    return notRun("its set-up failed (see Notes)");
  }
  console.log(`bench: ${name}: ${warmup} + ${count} sequential requests per case…`);
  const result = await runSeries({
    origin,
    cases,
    count,
    warmup,
    budgetMs: budgetS * 1000,
    timeoutMs: timeoutS * 1000,
  });
  if (result.stoppedEarly) notes.push(`${name}: stopped after ${budgetS} s with fewer samples`);
  const ok = !result.stoppedEarly && result.cases.every((c) => Object.keys(c.unexpected).length === 0);
  return { section: seriesSection(opts, result), ok };
}
