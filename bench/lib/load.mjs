/**
 * Load generation: autocannon (programmatic API) against one URL, plus a pre-flight check.
 */
import autocannon from "autocannon";

/**
 * workerd's keep-alive idle timeout (kj's HttpServer pipelineTimeout, 5 s; measured here: a
 * connection left idle 5.5 s is closed at 5.0 s, one idle 4.5 s is not).
 */
export const IDLE_TIMEOUT_MS = 5_000;
/**
 * The longest pause between two resets of one sweep: seen, 34–44 connections within 15 ms,
 * and on a loaded machine 40 in clusters over 260 ms, 50–90 ms apart.
 */
const SWEEP_GAP_MS = 100;
/**
 * How long after a sweep responses must still come: workerd serves the reconnections within
 * milliseconds and to the measurement's end, while a server that died may still finish the
 * responses under way for a few milliseconds.
 */
const SERVED_ON_MS = 250;

/**
 * @typedef {object} Sweep resets of one instant that workerd's idle timeout explains
 * @property {number} atMs when the first came, ms after the load started
 * @property {number} count
 */

/**
 * The connection resets workerd's own idle timeout explains, out of a measurement's errors.
 * Under Miniflare and sustained load, workerd sometimes closes at one instant every keep-alive
 * connection that is between two requests, the next request sent and unread (so the client
 * sees ECONNRESET), and serves the reconnections at once: by all appearances the idle timers
 * of a thread that has had no pause for 5 s firing together. Seen: `close()` of ~50 sockets
 * within 8 ms (strace), no log line, no pause in the responses before it, never earlier than
 * 5 s into a measurement (autocannon opens its connections at its start). Those requests were
 * never read, so they are not plinth's answer.
 *
 * A sweep is two or more ECONNRESETs, each within SWEEP_GAP_MS of the one before, the first
 * at least IDLE_TIMEOUT_MS after the start (no connection can have idled that long before),
 * with responses still coming SERVED_ON_MS after it (the server went on serving: a Worker or
 * workerd that died resets its connections too, and is then answered by refusals or
 * nothing). Anything else counts as before: a lone reset, resets spread out, earlier ones, a
 * burst nothing answered after, timeouts and any other error.
 * @param {{ code: string, atMs: number }[]} errors every error of the measurement
 * @param {number} lastResponseAtMs when the last response came, ms after the start
 * @returns {{ swept: number, sweeps: Sweep[] }}
 */
export function idleSweeps(errors, lastResponseAtMs) {
  const resets = errors.filter((e) => e.code === "ECONNRESET").map((e) => e.atMs);
  resets.sort((a, b) => a - b);
  /** @type {Sweep[]} */
  const sweeps = [];
  for (let i = 0; i < resets.length; ) {
    const start = resets[i];
    let j = i;
    while (j + 1 < resets.length && resets[j + 1] - resets[j] <= SWEEP_GAP_MS) j++;
    const count = j - i + 1;
    const servedOn = lastResponseAtMs >= resets[j] + SERVED_ON_MS;
    if (count >= 2 && start >= IDLE_TIMEOUT_MS && servedOn) sweeps.push({ atMs: start, count });
    i = j + 1;
  }
  return { swept: sweeps.reduce((n, w) => n + w.count, 0), sweeps };
}

/** @type {Set<{ stop: () => void }>} autocannon instances in flight, for Ctrl-C. */
const inFlight = new Set();

/** Stop any autocannon run in progress (its callback still fires with partial results). */
export function stopLoad() {
  for (const inst of inFlight) inst.stop();
}

/**
 * @typedef {object} LoadResult
 * @property {number} rps mean requests/s over the run
 * @property {number} p50 latency p50, ms
 * @property {number} p99 latency p99, ms
 * @property {number} total completed requests
 * @property {number} non2xx responses with another status than expected (outside 200-299 unless `expect` names one)
 * @property {number} errors connection errors, including timeouts, but not the resets of a
 *   sweep of workerd's idle timeout ({@link idleSweeps})
 * @property {Record<string, number>} errorKinds error code or message -> count, of `errors`
 * @property {number} swept resets of workerd's idle-timeout sweeps, not in `errors`
 * @property {Sweep[]} sweeps
 * @property {Record<string, number>} statuses count per status code
 */

/**
 * Drive `url` with a fixed number of connections for a fixed time. With `next`, each request
 * takes its path and body from the next call instead (one counter for all connections).
 * @param {{ url: string, method?: string, headers?: Record<string, string>, body?: string,
 *   next?: () => { path: string, body: string }, connections: number, duration: number,
 *   expect?: number, overallRate?: number }} opts duration in seconds; `expect` the one status
 *   every response should have (default: any 2xx); `overallRate` caps requests/s over all connections
 * @returns {Promise<LoadResult>}
 */
export function load({ url, method = "GET", headers, body, next, connections, duration, expect, overallRate }) {
  // autocannon calls setupRequest each time it builds a request; the same object serves all clients.
  const sequence = next ? { requests: [{ setupRequest: (/** @type {object} */ req) => ({ ...req, ...next() }) }] } : {};
  return new Promise((resolve, reject) => {
    const opts = { url, method, headers, body, ...sequence, connections, duration, timeout: 10, overallRate };
    /** @type {{ code: string, atMs: number }[]} */
    const seen = [];
    const started = performance.now();
    let lastResponseAtMs = 0;
    const inst = autocannon(opts, (err, r) => {
      inFlight.delete(inst);
      if (err) return reject(err);
      const { swept, sweeps } = idleSweeps(seen, lastResponseAtMs);
      // The sweeps' resets leave the count; every other error stays in it, by kind.
      /** @type {Record<string, number>} */
      const errorKinds = {};
      for (const e of seen) errorKinds[e.code] = (errorKinds[e.code] ?? 0) + 1;
      if (swept > 0) errorKinds.ECONNRESET -= swept;
      if (errorKinds.ECONNRESET === 0) delete errorKinds.ECONNRESET;
      /** @type {Record<string, number>} */
      const statuses = {};
      for (const [code, { count }] of Object.entries(r.statusCodeStats ?? {})) {
        statuses[code] = Number(count);
      }
      resolve({
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        total: r.requests.total,
        non2xx: expect === undefined ? r.non2xx : r.requests.total - (statuses[String(expect)] ?? 0),
        errors: r.errors - swept,
        errorKinds,
        statuses,
        swept,
        sweeps,
      });
    });
    inst.on("response", () => {
      lastResponseAtMs = performance.now() - started;
    });
    inst.on("reqError", (/** @type {any} */ e) => {
      seen.push({ code: e?.code ?? String(e?.message ?? e).slice(0, 80), atMs: performance.now() - started });
    });
    inFlight.add(inst);
  });
}

/**
 * One request before measuring, so a broken route shows its status and body instead of
 * only a non-2xx count.
 * @param {{ url: string, method?: string, headers?: Record<string, string>, body?: string }} req
 * @returns {Promise<{ ok: boolean, status: number, snippet: string }>}
 */
export async function preflight({ url, method = "GET", headers, body }) {
  try {
    const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return { ok: res.ok, status: res.status, snippet: text.slice(0, 300).replace(/\s+/g, " ") };
  } catch (err) {
    return { ok: false, status: 0, snippet: String(err) };
  }
}
