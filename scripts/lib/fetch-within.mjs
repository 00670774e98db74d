// The one time bound on a request of the scripts: the remote commands' --timeout, `audit verify
// --jwks`, and npm start's calls to its own Worker (its setup, health checks and local cron).
// Without one, a server that took the connection and never answered (a hung workerd, a stalled
// proxy) held the caller for Node's 300 s, or for ever where the answer's body never ended.
import { durationMs } from "./duration.mjs";

/** A request not answered within its bound, its body included: `url` and the bound as spelled. */
export class NoAnswer extends Error {
  constructor(/** @type {string} */ url, /** @type {string} */ spelled) {
    super(`no answer from ${url} within ${spelled}`);
    this.name = "NoAnswer";
    this.url = url;
    this.spelled = spelled;
  }
}

/**
 * A bound as the scripts spell their own (`30s`, `15m`: scripts/lib/duration.mjs), in milliseconds.
 * @returns {{ ms: number, spelled: string }}
 */
export function within(/** @type {string} */ spelled) {
  const ms = durationMs(spelled);
  if (ms === null) throw new Error(`not a duration: ${spelled}`);
  return { ms, spelled };
}

/** The statuses whose answer has no body (a Response refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * `fetch(input, init)`, its answer read whole within `bound`: a server can send its headers and
 * then nothing. Resolves to a Response over the bytes read; rejects with {@link NoAnswer} past
 * the bound, with fetch's own error otherwise (nothing listening: `fetch failed`).
 *
 * @param {string | Request} input
 * @param {RequestInit | undefined} init
 * @param {{ ms: number, spelled: string }} bound
 * @returns {Promise<Response>}
 */
export async function fetchWithin(input, init, bound) {
  const signal = AbortSignal.timeout(bound.ms);
  try {
    const response = await fetch(input, { ...init, signal });
    const body = NO_BODY.has(response.status) ? null : await response.arrayBuffer();
    return new Response(body, response);
  } catch (error) {
    if (!signal.aborted) throw error;
    throw new NoAnswer(typeof input === "string" ? input : input.url, bound.spelled);
  }
}
