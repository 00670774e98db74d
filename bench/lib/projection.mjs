/**
 * The event spine end to end: how long an acknowledged write takes to reach the read model (a
 * sequential series), and how far the read model lags after the write load.
 */
import { fmt, mdTable, median, percentile } from "./report.mjs";
import { brief } from "./rounds.mjs";

/**
 * @typedef {object} LagSeries
 * @property {number[]} lagMs from the PATCH's 200 to the first eventual GET showing its version
 * @property {number[]} writeMs the PATCH round trip
 * @property {number[]} polls GET requests per sample
 * @property {number} timeouts samples whose version had not shown after `timeoutMs`
 * @property {string[]} failures unexpected statuses or errors, one per failed sample
 * @property {number} count
 * @property {number} warmup
 * @property {number} pollMs
 * @property {number} timeoutMs
 * @property {boolean} stoppedEarly the time budget ran out first
 */

/**
 * @typedef {object} Backlog the read model right after the write load
 * @property {number} posts
 * @property {number} events events in those posts' streams (the aggregates' versions)
 * @property {number} behind events not yet projected when the load stopped
 * @property {number} behindLater the same at the last look, `seconds` later (0: caught up by then)
 * @property {number} seconds
 */

let stopped = false;
/** Stop a series or probe in progress (for Ctrl-C). */
export function stopProjection() {
  stopped = true;
}

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (/** @type {number[]} */ xs) => xs.reduce((a, b) => a + b, 0);

/**
 * A post's `version`: from the read model, or with `strong` from its aggregate; 0 if absent.
 * @param {string} origin
 * @param {string} path
 * @param {Record<string, string>} headers
 * @param {boolean} strong
 */
async function versionOf(origin, path, headers, strong) {
  const url = new URL(strong ? `${path}?consistency=strong` : path, origin);
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.status === 404) return 0;
  if (res.status !== 200)
    throw new Error(`GET ${url.pathname}${url.search} answered ${res.status}: ${text.slice(0, 200)}`);
  return Number(JSON.parse(text).version);
}

/**
 * `fn` over `items`, at most `limit` at a time, results in order.
 * @template T, R
 * @param {T[]} items
 * @param {number} limit
 * @param {(item: T) => Promise<R>} fn
 * @returns {Promise<R[]>}
 */
async function mapLimit(items, limit, fn) {
  /** @type {R[]} */
  const out = new Array(items.length);
  let i = 0;
  const worker = async () => {
    while (i < items.length) {
      const k = i++;
      out[k] = await fn(items[k]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * One sample: PATCH (new content, so one new event), then poll the eventual read.
 * @param {string} origin
 * @param {import("./fixtures.mjs").Prepared & { next: () => { path: string, body: string } }} target
 * @param {{ pollMs: number, timeoutMs: number, after: number }} opts after: the version before
 * @returns {Promise<{ version: number, writeMs: number, lagMs: number | null, polls: number }>}
 */
async function sample(origin, target, { pollMs, timeoutMs, after }) {
  const req = target.next();
  const sent = performance.now();
  const res = await fetch(new URL(req.path, origin), {
    method: "PATCH",
    headers: target.headers,
    body: req.body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  const acked = performance.now();
  if (res.status !== 200) throw new Error(`PATCH answered ${res.status}: ${text.slice(0, 200)}`);
  const version = Number(JSON.parse(text).version);
  if (!(version > after)) throw new Error(`PATCH answered version ${version} after ${after}: it appended no event`);
  const writeMs = acked - sent;
  for (let polls = 1; performance.now() - acked < timeoutMs; polls++) {
    if ((await versionOf(origin, req.path, target.headers ?? {}, false)) >= version) {
      return { version, writeMs, lagMs: performance.now() - acked, polls };
    }
    await sleep(pollMs);
  }
  return { version, writeMs, lagMs: null, polls: 0 };
}

/**
 * `warmup` untimed then up to `count` timed samples against one post, one at a time.
 * @param {{ origin: string, target: import("./fixtures.mjs").Prepared & { next: () => { path: string, body: string } },
 *   count: number, warmup: number, pollMs: number, timeoutMs: number, budgetMs: number }} opts
 * @returns {Promise<LagSeries>}
 */
export async function runLagSeries({ origin, target, count, warmup, pollMs, timeoutMs, budgetMs }) {
  const started = Date.now();
  /** @type {LagSeries} */
  const r = {
    lagMs: [],
    writeMs: [],
    polls: [],
    timeouts: 0,
    failures: [],
    count,
    warmup,
    pollMs,
    timeoutMs,
    stoppedEarly: false,
  };
  let after = 0;
  for (let i = -warmup; i < count; i++) {
    if (stopped || Date.now() - started > budgetMs) {
      r.stoppedEarly = true;
      break;
    }
    try {
      const s = await sample(origin, target, { pollMs, timeoutMs, after });
      after = s.version;
      if (i < 0) continue;
      if (s.lagMs === null) r.timeouts++;
      else r.lagMs.push(s.lagMs);
      r.writeMs.push(s.writeMs);
      r.polls.push(s.polls);
    } catch (err) {
      if (i >= 0) r.failures.push(String(/** @type {Error} */ (err)?.message ?? err).slice(0, 300));
    }
  }
  return r;
}

/**
 * The series on its own post (created by `setup`); null if it cannot run. Problems go to `notes`.
 * @param {{ origin: string | undefined, name: string, setup: (origin: string) => Promise<import("./fixtures.mjs").Prepared>,
 *   count: number, warmup: number, pollMs: number, timeoutMs: number, budgetMs: number, notes: string[] }} opts
 * @returns {Promise<LagSeries | null>}
 */
export async function lagPhase({ origin, name, setup, notes, ...opts }) {
  if (!origin) return null;
  let target;
  try {
    target = await setup(origin);
  } catch (err) {
    notes.push(`${name}: set-up failed: ${brief(err)}`);
    return null;
  }
  const { next } = target;
  if (!next) throw new Error(`${name}: its set-up gives no request sequence`);
  console.log(`bench: ${name}: ${opts.warmup} + ${opts.count} sequential samples…`);
  const r = await runLagSeries({ origin, target: { ...target, next }, ...opts });
  if (r.stoppedEarly) notes.push(`${name}: stopped after ${opts.budgetMs / 1000} s with fewer samples`);
  for (const f of r.failures) notes.push(`${name}: ${f}`);
  return r;
}

/**
 * The read model right after the write load: events not yet projected, then the same again
 * pass after pass until none are left or `waitMs` has passed.
 * @param {{ origin: string, headers: Record<string, string>, paths: string[], waitMs: number }} opts
 * @returns {Promise<Backlog>}
 */
export async function probeBacklog({ origin, headers, paths, waitMs }) {
  const strong = await mapLimit(paths, 8, (p) => versionOf(origin, p, headers, true));
  const behind = async () => {
    const from = performance.now();
    const eventual = await mapLimit(paths, 8, (p) => versionOf(origin, p, headers, false));
    return { at: (from + performance.now()) / 2, n: sum(strong.map((v, i) => Math.max(0, v - eventual[i]))) };
  };
  const first = await behind();
  let last = first;
  while (last.n > 0 && !stopped && last.at - first.at < waitMs) {
    await sleep(250);
    last = await behind();
  }
  const seconds = (last.at - first.at) / 1000;
  return { posts: paths.length, events: sum(strong), behind: first.n, behindLater: last.n, seconds };
}

/**
 * The Worker's "outbox drain failed" log lines, and whether a timer-quota error was logged too.
 * @param {import("./serve.mjs").Logs | undefined} logs
 */
export function drainFailures(logs) {
  const k = logs?.kinds.get("[error] outbox drain failed");
  const quotaLogged = [...(logs?.kinds.keys() ?? [])].some((kind) => kind.includes("QuotaExceededError"));
  return k ? { ...k, quotaLogged } : null;
}

/**
 * The "Projection latency" section of REPORT.md.
 * @param {{ series: LagSeries | null, backlog: Backlog | null, batchTimeoutS: number,
 *   batchSize: number, writeRps: number,
 *   drainFailures: { count: number, first: string, quotaLogged: boolean } | null }} data
 *   writeRps: the highest write rate measured (0: none); drainFailures: the Worker's
 *   "outbox drain failed" log lines, if any
 */
export function projectionSection({ series, backlog, batchTimeoutS, batchSize, writeRps, drainFailures }) {
  const parts = ["## Projection latency\n"];
  if (series) {
    const s = series;
    const bad = s.timeouts + s.failures.length;
    parts.push(
      `A sequential series against one post, before the write load (nothing else running): PATCH it with new content (one new event), note the \`version\` it answers, then GET it without \`?consistency=strong\` (the D1 read model) every ~${s.pollMs} ms until its \`version\` reaches that one. Each sample is the time from the PATCH's response to the response of the first GET that shows the event; ${s.warmup} untimed warm-up(s), then up to ${s.count} samples, ${s.timeoutMs / 1000} s limit per sample. With this few samples p99 is the largest but one or the largest (nearest rank).\n`,
      mdTable(
        [
          "samples",
          "p50 ms",
          "p90 ms",
          "p99 ms",
          "max ms",
          "PATCH p50 ms",
          "GETs per sample (median)",
          "timeouts / failures",
        ],
        [
          [
            String(s.lagMs.length),
            fmt(percentile(s.lagMs, 0.5), 1),
            fmt(percentile(s.lagMs, 0.9), 1),
            fmt(percentile(s.lagMs, 0.99), 1),
            fmt(Math.max(...s.lagMs), 1),
            fmt(median(s.writeMs), 1),
            fmt(median(s.polls)),
            `${s.timeouts} / ${s.failures.length}${bad ? " FAILED" : ""}`,
          ],
        ],
        [true, true, true, true, true, true, true, true],
      ),
      "",
      `Locally this is dominated by the queue's batching: the consumer of \`plinth-events\` has \`max_batch_size = ${batchSize}\` and \`max_batch_timeout = ${batchTimeoutS}\` (as in \`wrangler.toml\`), and Miniflare's queue holds a batch that still has room for the whole timeout before delivering it, so a lone event waits about ${batchTimeoutS * 1000} ms; the outbox relay, the consumer's D1 work and the polling interval make up the rest (median ${fmt(median(s.lagMs) - batchTimeoutS * 1000)} ms beyond the timeout). Cloudflare's Queues also wait up to \`max_batch_timeout\` for a batch to fill (2 s in \`[env.production]\`), so a quiet system sees a similar delay and a busy one, whose batches fill sooner, less; a smaller \`max_batch_timeout\` lowers it at the cost of more, smaller consumer invocations. Reads that must see a write use \`?consistency=strong\`.`,
    );
    if (s.stoppedEarly) parts.push("", "The series hit its time budget and has fewer samples.");
    if (s.failures.length) parts.push("", `Failures: ${s.failures.slice(0, 3).join(" | ")}`);
  } else {
    parts.push("The latency series did not run (filtered out, `BENCH_PROJECTION=0`, or plinth is not running).");
  }
  if (backlog) {
    const b = backlog;
    const rate = b.seconds > 0 ? (b.behind - b.behindLater) / b.seconds : Number.NaN;
    const caughtUp = b.behindLater === 0;
    parts.push(
      "",
      "### Read model after the write load",
      "",
      `Right after the write phase, every written post was read both ways (aggregate and read model, 8 requests at a time), then the read model again, pass after pass with nothing else running, until it had caught up or ${fmt(b.seconds, 1)} s had passed.`,
      "",
      mdTable(
        ["posts", "events in their streams", "not yet projected", "later", "projected events/s", "caught up after"],
        [
          [
            String(b.posts),
            String(b.events),
            String(b.behind),
            `${b.behindLater} after ${fmt(b.seconds, 1)} s`,
            b.behind > 0 ? fmt(rate) : "n/a",
            b.behind === 0
              ? "0 s"
              : caughtUp
                ? `${fmt(b.seconds, 1)} s`
                : `~${fmt(b.seconds + b.behindLater / rate)} s (estimate)`,
          ],
        ],
        [true, true, true, true, true, true],
      ),
      "",
      b.behind > 0
        ? `The write scenarios appended up to ${fmt(writeRps)} events/s, while the consumer projected ${fmt(rate)} events/s with nothing else running${caughtUp ? " (a lower bound: it caught up between two looks)" : ""}: locally the read model falls behind during any sustained write load and catches up afterwards. Miniflare runs one consumer invocation at a time, and each event costs it several round trips in turn (for every subscriber of the event: a D1 dedup check, the subscriber's own work, a D1 processed mark); Cloudflare scales consumer invocations out with the backlog (up to \`max_concurrency\`), so this local rate is not a production limit. The consumer also shares the cores with the writes while they run. This is why the write scenarios run last: the backlog they leave would slow whatever ran after them.`
        : "The read model had caught up by the time the write load stopped.",
    );
  }
  if (drainFailures) {
    const why = drainFailures.first.match(/"error_message":"([^"]*)"/)?.[1];
    parts.push(
      "",
      `The Worker logged ${drainFailures.count} \`outbox drain failed\` errors during the run: the queue binding refused an Aggregate's \`sendBatch\`${why ? ` (\`${why}\`)` : ""}. The outbox keeps such events and the relay retries from the object's alarm with backoff (1 s, 2 s, 4 s …), so no write failed and no event was lost, but those events reached the queue later, which adds to the backlog above. This is most likely Miniflare's local queue, not plinth: its broker arms one timer per message it receives, and workerd allows an object at most 10,000 active timers; ${drainFailures.quotaLogged ? "this run logged that `QuotaExceededError` (see Notes)." : "this run did not log the `QuotaExceededError` that other runs did, so that cause is not confirmed here."}`,
    );
  }
  return `${parts.join("\n")}\n`;
}
