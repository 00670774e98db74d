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
 * @typedef {object} ConsumerFigures what GET /api/v1/platform/events/consumer answers, and when
 * @property {number} at performance.now() when read
 * @property {{ batches: number, messages: number, events: number, applied: number, d1_round_trips: number }} queue
 * @property {{ passes: number, events: number, applied: number, deferred: number, failed: number, d1_round_trips: number }} inline
 */

/**
 * The Worker's consumer figures (one isolate under Miniflare: all of them), or null if unreadable.
 * @param {string} origin
 * @param {string} rootKey
 * @returns {Promise<ConsumerFigures | null>}
 */
export async function consumerFigures(origin, rootKey) {
  try {
    const res = await fetch(new URL("/api/v1/platform/events/consumer", origin), {
      headers: { authorization: `Bearer ${rootKey}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) return null;
    const body = await res.json();
    return { at: performance.now(), queue: body.queue, inline: body.inline };
  } catch {
    return null;
  }
}

/** `b - a`, field by field, with the seconds between them. */
function delta(/** @type {ConsumerFigures} */ a, /** @type {ConsumerFigures} */ b) {
  /** @type {(x: Record<string, number>, y: Record<string, number>) => Record<string, number>} */
  const minus = (x, y) => Object.fromEntries(Object.entries(y).map(([k, v]) => [k, v - (x[k] ?? 0)]));
  return { seconds: (b.at - a.at) / 1000, queue: minus(a.queue, b.queue), inline: minus(a.inline, b.inline) };
}

/**
 * The "consumer, counted" part of the report: the queue consumer and the inline passes during
 * the write phase and while the read model caught up after it.
 * @param {{ before: ConsumerFigures | null, afterWrites: ConsumerFigures | null, afterProbe: ConsumerFigures | null,
 *   appendedPerS: number }} f
 */
export function consumerSection({ before, afterWrites, afterProbe, appendedPerS }) {
  if (!before || !afterWrites) return "The consumer's figures could not be read.";
  const phases = [["during the write phase", delta(before, afterWrites)]];
  if (afterProbe) phases.push(["after it, until caught up or the probe ended", delta(afterWrites, afterProbe)]);
  const per = (/** @type {number} */ trips, /** @type {number} */ events) =>
    events > 0 ? fmt(trips / events, 3) : "n/a";
  /** One path's row: inline passes count what they applied, the queue what it took in. */
  const row = (
    /** @type {string} */ label,
    /** @type {number} */ seconds,
    /** @type {Record<string, number>} */ f,
    /** @type {number} */ batches,
    /** @type {number} */ rate,
  ) => [
    label,
    fmt(seconds, 1),
    String(batches),
    String(f.events),
    String(f.applied),
    fmt(rate / seconds),
    String(f.d1_round_trips),
    per(f.d1_round_trips, f.events),
  ];
  const rows = phases.flatMap(([label, d]) => [
    row(`${label}: inline passes`, d.seconds, d.inline, d.inline.passes, d.inline.applied),
    row(`${label}: queue consumer`, d.seconds, d.queue, d.queue.batches, d.queue.events),
  ]);
  const during = phases[0][1];
  return [
    "### The consumer, counted",
    "",
    `Read from \`GET /api/v1/platform/events/consumer\` before and after the write phase and after the look at the read model (under Miniflare one isolate serves everything, so these are all of them). "Batches" are inline passes (the writer applying a commit's events to the read model right after it) or queue batches; "applied" counts (subscription, event) applications; D1 round trips are counted by a wrapper around the D1 binding, each query and each \`batch()\` one.`,
    "",
    mdTable(
      [
        "path",
        "seconds",
        "passes / batches",
        "events",
        "applied",
        "events/s",
        "D1 round trips",
        "round trips per event",
      ],
      rows,
      [false, true, true, true, true, true, true, true],
    ),
    "",
    `During the write phase the writes appended up to ${fmt(appendedPerS)} events/s (the fastest write scenario's median). Of the ${during.inline.events} events committed in the phase, the writers' inline passes applied ${during.inline.applied} to the read model as they were committed (${during.inline.deferred} left to the queue after a gap, ${during.inline.failed} failed and left to it too), and the queue consumer took in ${fmt(during.queue.events / during.seconds)} events/s over the phase (rounds, warm-ups and the pauses between them).`,
  ].join("\n");
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
 *   batchSize: number, writeRps: number, consumer: string | null,
 *   drainFailures: { count: number, first: string, quotaLogged: boolean } | null }} data
 *   writeRps: the highest write rate measured (0: none); consumer: the consumer's counted
 *   figures (consumerSection); drainFailures: the Worker's "outbox drain failed" log lines, if any
 */
export function projectionSection({ series, backlog, batchTimeoutS, batchSize, writeRps, consumer, drainFailures }) {
  const parts = ["## Projection latency\n"];
  if (series) {
    const s = series;
    const bad = s.timeouts + s.failures.length;
    const p50 = percentile(s.lagMs, 0.5);
    parts.push(
      `A sequential series against one post, before the write load (nothing else running): PATCH it with new content (one new event), note the \`version\` it answers, then GET it without \`?consistency=strong\` (the D1 read model) every ~${s.pollMs} ms until its \`version\` reaches that one. Each sample is the time from the PATCH's response to the response of the first GET that shows the event; ${s.warmup} untimed warm-up(s), then up to ${s.count} samples, ${s.timeoutMs / 1000} s limit per sample. p99 is nearest rank.\n`,
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
            fmt(p50, 1),
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
      p50 < (batchTimeoutS * 1000) / 2
        ? `The writer's inline pass (docs/events.md) applies the event to the read model right after the commit, in the Aggregate object, so a sample is that pass's D1 write (one round trip: the writer's own state, upserted with its ledger marks) and the polling interval (a GET every ~${s.pollMs} ms) rather than the queue: the queue's consumer of \`plinth-events\` has \`max_batch_size = ${batchSize}\` and \`max_batch_timeout = ${batchTimeoutS}\` (as in \`wrangler.toml\`), and Miniflare holds a batch with room left for the whole timeout, so an event the inline pass did not apply would show after about ${batchTimeoutS * 1000} ms. Reads that must see a write at once use \`?consistency=strong\`.`
        : `Most samples waited for the queue: the consumer of \`plinth-events\` has \`max_batch_size = ${batchSize}\` and \`max_batch_timeout = ${batchTimeoutS}\` (as in \`wrangler.toml\`), and Miniflare holds a batch with room left for the whole timeout, so a lone event waits about ${batchTimeoutS * 1000} ms. The writer's inline pass should have applied them within milliseconds: check the inline figures below and the Worker's log lines in the Notes.`,
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
        ? `The write scenarios appended up to ${fmt(writeRps)} events/s and the read model was ${b.behind} events behind when they stopped${caughtUp ? `; it caught up within ${fmt(b.seconds, 1)} s` : `, ${b.behindLater} still after ${fmt(b.seconds, 1)} s`}. Events the inline passes did not apply wait for the queue consumer, which Miniflare runs one invocation at a time (Cloudflare scales invocations out with the backlog, up to \`max_concurrency\`).`
        : `The read model had caught up by the time the write load stopped: ${b.events} events in ${b.posts} streams, none behind.`,
    );
  }
  if (consumer) parts.push("", consumer);
  parts.push("", "### Outbox sends refused by the local queue", "");
  if (drainFailures) {
    const why = drainFailures.first.match(/"error_message":"([^"]*)"/)?.[1];
    parts.push(
      `The Worker logged ${drainFailures.count} \`outbox drain failed\` errors: Miniflare's queue binding refused an Aggregate's \`sendBatch\`${why ? ` (\`${why}\`)` : ""}. The outbox kept those events and the relay sent them again from the object's alarm with backoff (1 s, 2 s, 4 s …): no write failed and no event was lost, but they reached the queue later, and a refused batch may have been partly queued (consumers drop the repeats by event id). The cause is Miniflare's local queue broker, not plinth: it arms one timer per message it receives, even with no delay (\`broker.worker.js\`, \`#enqueue\`); under load workerd fires an object's timers slowly, so they pile up to workerd's limit of 10,000 active timers per object, and from then on the broker answers \`QuotaExceededError\`, which the binding reports as \`Unknown Internal Error (15000)\`. ${drainFailures.quotaLogged ? "This run's Miniflare log shows those errors (Notes)." : "This run's Miniflare log did not show the `QuotaExceededError` itself."} Reproduced outside plinth with a bare Worker (20,000 undelayed sends: half refused; with the broker patched to skip the timer for undelayed messages: none), and known upstream (workers-sdk issue #15670, pull request #15676). Coalescing sends does not change it, nor does \`max_batch_timeout\`; fewer messages do, which is why the relay packs a send's events up to 25 to a message (docs/events.md, "Packs"), and so does less concurrent work in the workerd process. Many objects each sending one command's event still arm a timer per event. Cloudflare's Queues is a separate service without that per-object limit (its limits: 5,000 messages/s per queue, 100 messages or 256 KB per \`sendBatch\`); a refused send there (\`Queue is overloaded\`) is retried the same way.`,
    );
  } else {
    parts.push("None: every `sendBatch` of the outboxes was accepted during the run.");
  }
  return `${parts.join("\n")}\n`;
}
