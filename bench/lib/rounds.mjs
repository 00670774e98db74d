/**
 * The throughput measurement: each scenario's set-up, pre-flight and warm-up, then
 * interleaved autocannon rounds.
 */
import { load, preflight } from "./load.mjs";

/**
 * @typedef {object} Scenario
 * @property {string} name
 * @property {string} worker key of the Worker that serves it
 * @property {string} path
 * @property {boolean} [baseline]
 * @property {string} [method]
 * @property {Record<string, string>} [headers]
 * @property {string} [body]
 * @property {number} [connections] overrides the run's connection count for this scenario
 * @property {number} [expect] the status every response should have, when it is not a 2xx (a refused request)
 * @property {(origin: string) => Promise<import("./fixtures.mjs").Prepared>} [setup] run once
 *   against the started Worker before the pre-flight; the headers it returns are added to
 *   the scenario's, and it runs again before a measurement that would outlive `validUntil`
 */

/** Run a set-up again when its credential would expire less than this long after a measurement. */
const MARGIN_MS = 30_000;

/**
 * First lines of an error, on one line, for the report.
 * @param {any} err
 */
export const brief = (err) =>
  String(err?.message ?? err)
    .split("\n")
    .slice(0, 12)
    .join(" ")
    .slice(0, 800);

/**
 * One measurement, taken once more when it had connection errors (autocannon's timeouts,
 * resets) and every answer it did get was a 2xx: on two shared cores a stall elsewhere (GC,
 * a backlog in another workerd) causes those, in the baseline's rounds too. `said` hears the
 * first attempt's error count, for the report. The second attempt is kept whatever it
 * holds, so errors that recur still count; non-2xx answers are plinth's, never retried.
 * @template {{ errors: number, non2xx: number }} R
 * @param {() => Promise<R>} run
 * @param {(errors: number) => void} said
 * @returns {Promise<R>}
 */
export async function againOnConnectionErrors(run, said) {
  const first = await run();
  if (first.errors === 0 || first.non2xx > 0) return first;
  said(first.errors);
  return run();
}

/**
 * @param {{ scenarios: Scenario[], origins: Map<string, string>,
 *   method: { connections: number, duration: number, rounds: number, warmup: number },
 *   notes: string[], skipped: Map<string, string> }} opts origins: worker -> origin of the
 *   running ones; notes and skipped are added to (failed set-ups, pre-flights, refreshes)
 * @returns {Promise<Map<string, import("./load.mjs").LoadResult[]>>} scenario name -> one result per round
 */
export async function measure({ scenarios, origins, method, notes, skipped }) {
  /** @type {Map<string, import("./fixtures.mjs").Prepared>} */
  const prepared = new Map();
  const originOf = (/** @type {Scenario} */ s) => origins.get(s.worker) ?? "";
  const prepare = async (/** @type {Scenario} */ s) => {
    prepared.set(s.name, s.setup ? await s.setup(originOf(s)) : {});
  };

  // Set-up, once per scenario, against the Worker that will serve it.
  for (const s of scenarios.filter((x) => !skipped.has(x.name))) {
    try {
      if (s.setup) console.log(`bench: ${s.name}: setting up…`);
      await prepare(s);
    } catch (err) {
      console.error(`bench: ${s.name}: set-up failed: ${brief(err)}`);
      notes.push(`${s.name}: set-up failed, so it was not measured: ${brief(err)}`);
      skipped.set(s.name, "its set-up failed; see Notes");
    }
  }
  const active = scenarios.filter((s) => !skipped.has(s.name));

  const target = (/** @type {Scenario} */ s) => ({
    url: new URL(s.path, originOf(s)).href,
    method: s.method,
    headers: { ...s.headers, ...prepared.get(s.name)?.headers },
    body: s.body,
    next: prepared.get(s.name)?.next,
    expect: s.expect,
  });
  /** The pre-flight request: the scenario's, or the first of its sequence. */
  const first = (/** @type {Scenario} */ s) => {
    const t = target(s);
    const req = t.next?.();
    return req ? { ...t, url: new URL(req.path, originOf(s)).href, body: req.body } : t;
  };
  const connectionsOf = (/** @type {Scenario} */ s) => s.connections ?? method.connections;

  /** Before a measurement of `seconds`: renew a credential that would expire during it. */
  const keepFresh = async (/** @type {Scenario} */ s, /** @type {number} */ seconds) => {
    const until = prepared.get(s.name)?.validUntil;
    if (until === undefined || Date.now() + seconds * 1000 + MARGIN_MS < until) return;
    try {
      await prepare(s);
      console.log(`bench: ${s.name}: set-up run again (its credential would have expired)`);
    } catch (err) {
      notes.push(`${s.name}: renewing its credential failed: ${brief(err)}`);
    }
  };

  // Pre-flight and warm-up.
  for (const s of active) {
    const pf = await preflight(first(s));
    if (s.expect === undefined ? !pf.ok : pf.status !== s.expect)
      notes.push(`${s.name}: pre-flight request returned ${pf.status}: ${pf.snippet}`);
    if (method.warmup > 0) {
      await keepFresh(s, method.warmup);
      await load({ ...target(s), connections: connectionsOf(s), duration: method.warmup });
    }
  }

  // Interleaved rounds, rotating the order so no scenario always runs first.
  /** @type {Map<string, import("./load.mjs").LoadResult[]>} */
  const results = new Map(active.map((s) => [s.name, []]));
  for (let round = 0; round < method.rounds; round++) {
    for (let i = 0; i < active.length; i++) {
      const s = active[(i + round) % active.length];
      await keepFresh(s, method.duration);
      const r = await againOnConnectionErrors(
        () => load({ ...target(s), connections: connectionsOf(s), duration: method.duration }),
        (errors) => notes.push(`${s.name}: round ${round + 1} measured again after ${errors} connection error(s)`),
      );
      results.get(s.name)?.push(r);
      const bad = r.non2xx + r.errors > 0 ? `  non-2xx ${r.non2xx} errors ${r.errors}` : "";
      const swept = r.swept > 0 ? `  (${r.swept} reset(s) of workerd's idle sweep, not counted)` : "";
      console.log(
        `bench: round ${round + 1}/${method.rounds} ${s.name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${bad}${swept}`,
      );
    }
  }
  return results;
}
