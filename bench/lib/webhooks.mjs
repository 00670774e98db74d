/**
 * Webhooks end to end: blog posts written through plinth's API become `blog.post.created`
 * events, which travel the EVENTS queue to the webhooks dispatcher, the tenant's registry and
 * each endpoint's actor, which POSTs them to a receiver on 127.0.0.1 (this process). Measured
 * in one run: delivery throughput with one endpoint and with several, and the time from each
 * event's `occurred_at` to its receipt, split at the moment the endpoint queued it. Baselines
 * from the same run: the bare receiver's request rate, and the same writes with no endpoint
 * (how fast events pass the local queue at all).
 *
 * The receiver is also the Node end-to-end test's (test/node/webhooks-e2e.test.ts), which
 * scripts its answers per path.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { drainFailures } from "./projection.mjs";
import { fmt, mdTable, median, percentile } from "./report.mjs";
import { brief } from "./rounds.mjs";

/** The scenario's name, which `BENCH_FILTER` matches. */
export const WEBHOOKS_NAME = "webhooks: delivery to a local receiver";

/**
 * plinth as `config` serves it (the webhook actors and `ENCRYPTION_KEYS` are in every
 * plinth config of the bench), with short retries for the case that fails on purpose.
 * @template {{ vars: Record<string, string> }} C
 * @param {C} config
 * @returns {C}
 */
export function webhooksServe(config) {
  return {
    ...config,
    vars: {
      ...config.vars,
      // Only the filled-queue case fails on purpose: its endpoint retries and probes within 200 ms, not minutes.
      WEBHOOK_POLICY: JSON.stringify({ retry_base_ms: 50, retry_max_ms: 200, breaker_cool_down_ms: 200 }),
    },
    // The phase reads the queue consumer's progress from D1 through this probe Worker, not through
    // Miniflare's synchronous proxy, whose wait for a reply has no timeout.
    sqlProbe: "DB",
  };
}

/** @typedef {"ok" | "fail" | "gone" | "hang"} Mode how the receiver answers on a path: 200, 500, 410, or never */

/**
 * @typedef {object} Received one request as the receiver got it
 * @property {string} path
 * @property {Record<string, string>} headers lower-case names
 * @property {string} body the raw body, as signed
 * @property {number | null} status what it answered; null while unanswered ("hang")
 * @property {number} at arrival, epoch ms
 */

const ANSWER = { ok: 200, fail: 500, gone: 410 };

/**
 * A webhook receiver on 127.0.0.1: records every request in arrival order and answers as its
 * path's mode says (an unknown path: 500).
 * @returns {Promise<{ origin: string, requests: Received[], path: (label: string, mode?: Mode) => { path: string, url: string },
 *   set: (path: string, mode: Mode) => void, on: (path: string) => Received[], delivered: (path: string) => Received[],
 *   stop: () => Promise<void> }>}
 */
export async function startReceiver() {
  /** @type {Received[]} */
  const requests = [];
  /** @type {Map<string, Mode>} */
  const modes = new Map();
  const server = http.createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const at = Date.now();
      const path = req.url ?? "";
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
      );
      const mode = modes.get(path) ?? "fail";
      /** @type {Received} */
      const received = { path, headers, body: Buffer.concat(chunks).toString("utf8"), status: null, at };
      requests.push(received);
      if (mode === "hang") return; // never answered: the sender's attempt times out
      received.status = ANSWER[mode];
      res.writeHead(received.status, { "content-type": "text/plain" }).end(mode);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = server.address();
  const origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const on = (/** @type {string} */ path) => requests.filter((r) => r.path === path);
  return {
    origin,
    requests,
    path(label, mode = "ok") {
      const path = `/hook/${label}-${randomBytes(4).toString("hex")}`;
      modes.set(path, mode);
      return { path, url: `${origin}${path}` };
    },
    set: (path, mode) => void modes.set(path, mode),
    on,
    delivered: (path) => on(path).filter((r) => r.status !== null && r.status < 300),
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `fn` for 0..count-1, at most `limit` at a time.
 * @param {number} count
 * @param {number} limit
 * @param {(i: number) => Promise<void>} fn
 */
async function times(count, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

/**
 * A JSON request to plinth that must answer `expect`.
 * @param {string} origin
 * @param {string} method
 * @param {string} path
 * @param {{ key: string, body?: unknown, expect: number }} opts
 */
async function call(origin, method, path, { key, body, expect }) {
  const res = await fetch(new URL(path, origin), {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : {};
}

/**
 * How a case writes and delivers: `burst` writes every post `concurrency` at a time;
 * `prefilled` does too, but the receiver fails until every event waits in the endpoints'
 * queues, then answers 200 (the endpoints' own rate, without the EVENTS queue in front);
 * `paced` writes one post every `paceMs` (the latency of a lightly loaded path).
 * @typedef {"burst" | "prefilled" | "paced"} Shape
 */

/**
 * @typedef {object} CaseResult one case of one round
 * @property {string} name
 * @property {Shape} shape
 * @property {number} endpoints
 * @property {number} events
 * @property {number} writeS from the first write sent to the last answered
 * @property {number} queueS from the first write sent to the last event catalogued by the queue consumer
 * @property {number | null} deliverS from the first write sent to the last delivery received
 * @property {number | null} drainS from the first delivery received to the last
 * @property {number[]} latencyMs per delivery: receipt − the event's occurred_at
 * @property {number[]} queuedMs per delivery: queued at the endpoint − occurred_at
 * @property {number[]} sentMs per delivery: receipt − queued at the endpoint
 * @property {number} duplicates deliveries of a webhook-id already received on that endpoint
 * @property {string | null} incomplete why the case stopped short
 */

/**
 * Writes `events` posts in a fresh tenant with `endpoints` endpoints (each wanting
 * `blog.post.created`) and waits until the queue consumer has seen every event and every
 * endpoint has received every one.
 * @param {{ origin: string, rootKey: string, sql: Sql, receiver: Awaited<ReturnType<typeof startReceiver>>,
 *   name: string, shape: Shape, endpoints: number, events: number, concurrency: number, paceMs: number,
 *   timeoutMs: number, seq: number }} o
 * @returns {Promise<CaseResult>}
 */
async function runCase(o) {
  const { origin, rootKey, sql, receiver, name, shape, endpoints, events, concurrency, paceMs, timeoutMs, seq } = o;
  const slug = `bench-wh-${seq}-${Date.now().toString(36)}`;
  const tenant = await call(origin, "POST", "/api/v1/platform/tenants", {
    key: rootKey,
    body: { slug, name: slug },
    expect: 201,
  });
  const key = String(tenant.admin_key);
  /** @type {{ id: string, path: string }[]} */
  const targets = [];
  for (let i = 0; i < endpoints; i++) {
    const target = receiver.path(`${slug}-${i}`, shape === "prefilled" ? "fail" : "ok");
    const created = await call(origin, "POST", "/api/v1/admin/webhooks", {
      key,
      body: { url: target.url, events: ["blog.post.created"] },
      expect: 201,
    });
    targets.push({ id: String(created.id), path: target.path });
  }
  const content = "A post written by the webhooks bench. ".repeat(8);
  const write = (/** @type {number} */ i) =>
    call(origin, "POST", "/api/v1/blog/posts", { key, body: { title: `post ${i}`, content }, expect: 201 });
  const t0 = Date.now();
  if (shape === "paced") {
    for (let i = 0; i < events; i++) {
      const started = Date.now();
      await write(i);
      await sleep(paceMs - (Date.now() - started));
    }
  } else {
    await times(events, concurrency, write);
  }
  const writeS = (Date.now() - t0) / 1000;

  const deadline = Date.now() + timeoutMs;
  let catalogued = { n: 0, last: null };
  let incomplete = null;
  let failing = shape === "prefilled";
  for (;;) {
    const { results } = await sql(
      "select count(*) as n, max(updated_at) as last from event_streams where tenant_id = ? and type = 'post'",
      [tenant.id],
    );
    catalogued = /** @type {{ n: number, last: string | null }} */ (results[0] ?? { n: 0, last: null });
    const received = targets.reduce((n, t) => n + receiver.delivered(t.path).length, 0);
    if (catalogued.n >= events && received >= events * endpoints) break;
    if (failing && catalogued.n >= events && (await pendingAt(origin, key, targets)) >= events * endpoints) {
      // Everything waits at the endpoints: from now on they deliver at their own pace.
      failing = false;
      for (const t of targets) receiver.set(t.path, "ok");
    }
    if (Date.now() > deadline) {
      incomplete = `after ${timeoutMs / 1000} s: ${catalogued.n}/${events} events through the queue, ${received}/${events * endpoints} deliveries`;
      break;
    }
    await sleep(25);
  }
  const queueS = catalogued.last ? (Date.parse(String(catalogued.last)) - t0) / 1000 : Number.NaN;

  /** @type {number[]} */
  const latencyMs = [];
  /** @type {number[]} */
  const queuedMs = [];
  /** @type {number[]} */
  const sentMs = [];
  let duplicates = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const target of targets) {
    const got = receiver.delivered(target.path);
    duplicates += got.length - new Set(got.map((r) => r.headers["webhook-id"])).size;
    const queuedAt = await queueTimes(origin, key, target.id);
    for (const r of got) {
      const occurred = Date.parse(JSON.parse(r.body).occurred_at);
      latencyMs.push(r.at - occurred);
      const queued = queuedAt.get(r.headers["webhook-id"] ?? "");
      if (queued !== undefined) {
        queuedMs.push(queued - occurred);
        sentMs.push(r.at - queued);
      }
      first = Math.min(first, r.at);
      last = Math.max(last, r.at);
    }
  }
  const delivered = latencyMs.length > 0;
  return {
    name,
    shape,
    endpoints,
    events,
    writeS,
    queueS,
    deliverS: delivered ? (last - t0) / 1000 : null,
    drainS: delivered ? (last - first) / 1000 : null,
    latencyMs,
    queuedMs,
    sentMs,
    duplicates,
    incomplete,
  };
}

/**
 * Messages waiting at the endpoints (their `delivery.pending`).
 * @param {string} origin
 * @param {string} key
 * @param {{ id: string }[]} targets
 */
async function pendingAt(origin, key, targets) {
  let pending = 0;
  for (const t of targets) {
    const endpoint = await call(origin, "GET", `/api/v1/admin/webhooks/${t.id}`, { key, expect: 200 });
    pending += Number(endpoint.delivery.pending);
  }
  return pending;
}

/** @typedef {(sql: string, params: unknown[]) => Promise<{ results: Record<string, unknown>[] }>} Sql one statement run on the Worker's D1 */

/**
 * When the endpoint queued each message (its delivery log's `created_at`), by message id.
 * @param {string} origin
 * @param {string} key
 * @param {string} endpointId
 */
async function queueTimes(origin, key, endpointId) {
  /** @type {Map<string, number>} */
  const out = new Map();
  let cursor = null;
  do {
    const page = await call(
      origin,
      "GET",
      `/api/v1/admin/webhooks/${endpointId}/deliveries?limit=100${cursor ? `&cursor=${cursor}` : ""}`,
      { key, expect: 200 },
    );
    for (const d of page.items) out.set(String(d.message_id), Date.parse(d.created_at));
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

/**
 * The bare receiver's rate: `count` POSTs of a delivery-sized body from this process, `concurrency`
 * at a time (what the receiver and loopback HTTP cost without plinth).
 * @param {Awaited<ReturnType<typeof startReceiver>>} receiver
 * @param {number} count
 * @param {number} concurrency
 */
async function bareReceiverRate(receiver, count, concurrency) {
  const { url } = receiver.path("bare");
  const body = JSON.stringify({ id: "x".repeat(26), type: "blog.post.created", data: { content: "y".repeat(400) } });
  const t0 = Date.now();
  await times(count, concurrency, async () => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    await res.text();
  });
  return count / ((Date.now() - t0) / 1000);
}

/**
 * @typedef {object} WebhooksResult
 * @property {string} section the report's markdown
 * @property {boolean} ok every case complete, with no duplicate delivery
 */

/** Writes per second in the paced case, and how many. */
const PACE = { perS: 20, events: 40 };

/**
 * The webhooks scenario: an untimed warm-up, then per round the bare receiver and the cases
 * (in rotating order, each in a fresh tenant): the writes with no endpoint, one endpoint,
 * `several` endpoints, one endpoint whose queue is filled first, and one endpoint fed at
 * {@link PACE}.
 * @param {{ origin: string, rootKey: string, sql: Sql, logs: import("./serve.mjs").Logs, events: number,
 *   several: number, rounds: number, concurrency: number, batchTimeoutS: number, notes: string[] }} o
 *   sql: a statement on the Worker's D1 (serve.mjs `probeSql`), read for the queue consumer's progress;
 *   logs: the Worker's counted log lines, for the outbox sends the local queue refused
 * @returns {Promise<WebhooksResult | null>}
 */
export async function webhooksPhase(o) {
  const { origin, rootKey, sql, logs, events, several, rounds, concurrency, batchTimeoutS, notes } = o;
  const receiver = await startReceiver();
  const base = { origin, rootKey, sql, receiver, concurrency, paceMs: 1000 / PACE.perS, timeoutMs: 120_000 };
  /** @type {{ name: string, shape: Shape, endpoints: number, events: number }[]} */
  const cases = [
    { name: "no endpoint (baseline)", shape: "burst", endpoints: 0, events },
    { name: "one endpoint", shape: "burst", endpoints: 1, events },
    { name: `${several} endpoints`, shape: "burst", endpoints: several, events },
    { name: "one endpoint, its queue filled first", shape: "prefilled", endpoints: 1, events },
    { name: `one endpoint, ${PACE.perS} events/s`, shape: "paced", endpoints: 1, events: PACE.events },
  ];
  try {
    let seq = 0;
    // Untimed: the run's first tenant, actors, posts and queue batches pay start-up costs.
    console.log(`bench: ${WEBHOOKS_NAME}, warm-up…`);
    await runCase({ ...base, name: "warm-up", shape: "burst", endpoints: several, events: 50, seq: ++seq });
    await bareReceiverRate(receiver, 50, concurrency);
    /** @type {number[]} */
    const bare = [];
    /** @type {Map<string, CaseResult[]>} */
    const results = new Map(cases.map((c) => [c.name, []]));
    for (let round = 0; round < rounds; round++) {
      console.log(`bench: ${WEBHOOKS_NAME}, round ${round + 1}/${rounds}…`);
      bare.push(await bareReceiverRate(receiver, events * several, concurrency));
      for (let k = 0; k < cases.length; k++) {
        const c = cases[(k + round) % cases.length];
        const result = await runCase({ ...base, ...c, seq: ++seq });
        if (result.incomplete) notes.push(`${WEBHOOKS_NAME}, ${c.name}, round ${round + 1}: ${result.incomplete}`);
        results.get(c.name)?.push(result);
      }
    }
    const ok = [...results.values()].flat().every((r) => !r.incomplete && r.duplicates === 0);
    const refusedSends = drainFailures(logs)?.count ?? 0;
    const facts = { bare, events, several, rounds, concurrency, batchTimeoutS, refusedSends };
    return { section: webhooksSection(results, facts), ok };
  } catch (err) {
    notes.push(`${WEBHOOKS_NAME} failed: ${brief(err)}`);
    return null;
  } finally {
    await receiver.stop();
  }
}

/**
 * The "Webhooks" section of REPORT.md.
 * @param {Map<string, CaseResult[]>} results by case name, in the cases' order
 * @param {{ bare: number[], events: number, several: number, rounds: number, concurrency: number,
 *   batchTimeoutS: number, refusedSends: number }} facts
 */
function webhooksSection(results, { bare, events, several, rounds, concurrency, batchTimeoutS, refusedSends }) {
  const bareRps = median(bare);
  const rate = (/** @type {number} */ n, /** @type {number | null} */ s) => (s && s > 0 ? n / s : Number.NaN);
  const rows = [...results].map(([name, rs]) => {
    const r0 = rs[0];
    const deliveries = (r0?.endpoints ?? 0) * (r0?.events ?? 0);
    return {
      name,
      shape: r0?.shape ?? "burst",
      endpoints: r0?.endpoints ?? 0,
      deliveries,
      commands: median(rs.map((r) => rate(r.events, r.writeS))),
      queue: median(rs.map((r) => rate(r.events, r.queueS))),
      e2e: median(rs.map((r) => rate(deliveries, r.deliverS))),
      drain: median(rs.map((r) => rate(deliveries, r.drainS))),
      lat: rs.flatMap((r) => r.latencyMs),
      queued: rs.flatMap((r) => r.queuedMs),
      sent: rs.flatMap((r) => r.sentMs),
      duplicates: rs.reduce((n, r) => n + r.duplicates, 0),
      incomplete: rs.filter((r) => r.incomplete).length,
    };
  });
  const ms = (/** @type {number[]} */ xs, /** @type {number} */ q) => fmt(percentile(xs, q));
  const pair = (/** @type {number[]} */ xs) => `${ms(xs, 0.5)} / ${ms(xs, 0.99)}`;
  const table = mdTable(
    [
      "case",
      "deliveries",
      "commands/s",
      "events/s through the queue",
      "deliveries/s end to end",
      "deliveries/s once flowing",
      "event → receipt p50 / p99 ms",
      "event → endpoint's queue p50 / p99",
      "endpoint's queue → receipt p50 / p99",
      "duplicates",
    ],
    [
      ["bare receiver (baseline)", `${events * several} POSTs`, "", "", fmt(bareRps), "", "", "", "", ""],
      ...rows.map((r) => {
        const burst = r.shape === "burst" && r.endpoints > 0;
        const timed = burst || r.shape === "paced";
        return [
          r.name,
          String(r.deliveries),
          r.shape === "paced" ? "" : fmt(r.commands),
          r.shape === "paced" ? "" : fmt(r.queue),
          burst ? fmt(r.e2e) : "",
          r.endpoints > 0 && r.shape !== "paced" ? fmt(r.drain) : "",
          timed ? pair(r.lat) : "",
          timed ? pair(r.queued) : "",
          timed ? pair(r.sent) : "",
          r.endpoints ? `${r.duplicates}${r.incomplete ? ` (${r.incomplete} incomplete)` : ""}` : "",
        ];
      }),
    ],
    [false, true, true, true, true, true, true, true, true, true],
  );
  const [none, one, many, prefilled, paced] = rows;
  const parts = [];
  if (none && one && many && prefilled && paced) {
    const perEndpoint = many.drain / many.endpoints;
    parts.push(
      `With no endpoint, the writes (${fmt(none.commands)} commands/s) reached the queue consumer at ${fmt(none.queue)} events/s, with no webhook work at all.`,
      `One endpoint received ${fmt(one.e2e)} deliveries/s end to end (${fmt((one.e2e / none.queue) * 100)}% of that rate; the bare receiver took ${fmt(bareRps)} req/s, so it was never the limit) and ${fmt(one.drain)}/s once deliveries flowed, while the writes and the queue consumer shared the thread; a message waited ${ms(one.queued, 0.5)} ms (p50) before its endpoint queued it and ${ms(one.sent, 0.5)} ms there.`,
      `With its queue filled first and nothing else running, the same endpoint delivered ${fmt(prefilled.drain)}/s: about ${fmt(1000 / prefilled.drain, 1)} ms per delivery (an alarm, a bulkhead permit from the tenant's registry, the POST, the log write), one message at a time to keep the order.`,
      `${many.endpoints} endpoints received ${fmt(many.e2e)} deliveries/s together (${fmt(many.drain)}/s once flowing, ${fmt(perEndpoint)}/s each: ${fmt(many.drain / prefilled.drain, 2)}× one endpoint's own rate, all on one workerd thread here).`,
      `At ${PACE.perS} events/s an event reached the receiver ${ms(paced.lat, 0.5)} ms after it occurred at the median (p99 ${ms(paced.lat, 0.99)}): ${ms(paced.queued, 0.5)} ms until its endpoint had queued it (the EVENTS queue, the dispatcher, the registry) and ${ms(paced.sent, 0.5)} ms from there to the receiver. In the ${events}-event bursts the median was ${ms(one.lat, 0.5)} ms with one endpoint and ${ms(many.lat, 0.5)} ms with ${many.endpoints}: there latency is the backlog's length divided by the rates above.`,
    );
  }
  return `## Webhooks: delivery to a local receiver

\`POST /api/v1/blog/posts\` with the tenant's admin key, ${events} per case (${concurrency} at a time; the paced case ${PACE.events}, one every ${1000 / PACE.perS} ms), each endpoint wanting \`blog.post.created\`; the receiver, a Node HTTP server in the bench's process on 127.0.0.1, answers 200 at once (in the filled-queue case 500 until every event waits at the endpoint). It runs on a separate plinth instance (\`plinth-webhooks\`: the bench's plinth plus the two webhook actors, \`ENCRYPTION_KEYS\`, and a \`WEBHOOK_POLICY\` with short retries, which only the filled-queue case's failures use). Each case runs in a fresh tenant, in rotating order, ${rounds} round(s) after an untimed warm-up; rates are medians over rounds, latencies are over every delivery of every round. "End to end" counts from the first write sent to the last delivery received, "once flowing" from the first delivery received to the last; "events/s through the queue" is when the queue consumer catalogued the events (in the same invocation as the webhooks dispatcher). The latency is split at the delivery log's \`created_at\` (when the endpoint queued the message). Baselines from the same run: the bare receiver (the same number of delivery-sized POSTs from this process, ${concurrency} at a time) and the writes with no endpoint.

${table}

${parts.join(" ")}

Under Miniflare every event reaches the dispatcher through the local queue broker, and that sets the first half of the latency and the end-to-end rates. The broker hands the consumer one batch at a time and holds a batch that is not full for \`max_batch_timeout\` (${batchTimeoutS} s here, as in wrangler.toml), so at a light load an event waits up to that long before any webhook work starts; a burst fills batches (up to 50 events) and moves faster, but at the rate of one consumer invocation at a time on workerd's one thread, which the writes, the endpoints' actors and the loopback HTTP share. Under heavier load the broker also arms one timer per message and refuses sends past workerd's 10,000 active timers (\`Unknown Internal Error (15000)\`, docs/events.md "What a command costs"); ${refusedSends ? `this run counted ${refusedSends} such refused outbox sends, whose events arrived later through the relay's retry` : "this run stayed below it (no refused outbox send was logged)"}. Deployed, Cloudflare Queues batch differently and each endpoint is a Durable Object of its own instead of a share of one thread, so the ratios between the cases, and the filled-queue rate per endpoint, say more about plinth's webhook path than the absolute numbers.
`;
}
