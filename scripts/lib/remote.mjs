// What every remote `plinth` command shares: the typed client, where keys come
// from, how an answer becomes an exit code, and the text tables.
//
// Keys never come from a flag's value (shell history, `ps` would show them):
// platform commands read PLATFORM_ROOT_KEY (or .dev.vars for a local plinth),
// tenant-admin commands read PLINTH_KEY or the file named by --key-file.
import { readFileSync } from "node:fs";
import createClient, { defaultPathSerializer } from "openapi-fetch";
import { readDevVars } from "./dev-setup.mjs";
import { fetchWithin, NoAnswer } from "./fetch-within.mjs";
import { keyFileModeWarning } from "./key-file.mjs";
import { LOOPBACK_HOST } from "./loopback.mjs";
import { displayWidth, padToWidth } from "./text-width.mjs";

/** Exit codes scripts can rely on (README, `plinth --help`). */
export const EXIT = Object.freeze({ ok: 0, api: 1, usage: 2, network: 3, auth: 4, internal: 5 });

/** A failure that ends the command with `exitCode`, printing `message` to stderr. */
export class CliError extends Error {
  /**
   * @param {string} message @param {number} exitCode
   * @param {Record<string, unknown>} [problem] the API's problem+json, when the API refused
   * @param {Record<string, unknown>} [fields] what --json adds to the failure's line (e.g. `resume_after`)
   */
  constructor(message, exitCode, problem, fields = {}) {
    super(message);
    this.exitCode = exitCode;
    this.problem = problem;
    this.fields = fields;
  }
}

export const DEFAULT_URL = "http://127.0.0.1:8787";

/** The plinth URL of a command: --url, else PLINTH_URL, else a local `npm start`. */
export function urlOf(/** @type {string | undefined} */ flag) {
  const url = flag ?? process.env.PLINTH_URL ?? DEFAULT_URL;
  const from = flag === undefined && process.env.PLINTH_URL ? "PLINTH_URL" : "--url";
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  // `localhost:8787` parses, as a URL of scheme "localhost:" whose origin is "null".
  if (parsed === null || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new CliError(`${from} ${url} is not an http(s) URL (e.g. http://127.0.0.1:8787)`, EXIT.usage);
  }
  return parsed.origin;
}

/**
 * `key` as a bearer token, or a usage error naming `source` (never the key): a key
 * holding a line break or another character a header cannot carry would make fetch
 * throw a message quoting the header, the key with it.
 */
function checkedKey(/** @type {string} */ key, /** @type {string} */ source) {
  if (/^[\x21-\x7e]+$/.test(key)) return key;
  throw new CliError(
    `${source} holds a space, a line break or a non-ASCII character, which no plinth key has (a stray paste?)`,
    EXIT.usage,
  );
}

/** Whether `url` is this machine (where .dev.vars belongs). */
export function isLocal(/** @type {string} */ url) {
  const host = new URL(url).hostname;
  return host === "127.0.0.1" || host === "localhost" || host.endsWith(".localhost");
}

/**
 * A usage error when `key` would cross a network in the clear: `url` is plain http to a host
 * other than this machine (a typo for https, a box on the LAN), where whoever is on the path
 * reads the Authorization header. The Worker holds its own outgoing secrets to the same rule
 * (src/kernel/config/loopback.ts). Names the URL, never the key.
 */
function refuseCleartext(/** @type {string} */ url) {
  if (new URL(url).protocol === "https:" || LOOPBACK_HOST.test(new URL(url).hostname)) return;
  throw new CliError(
    `${url} is plain http to another machine: the key would cross the network in the clear; use https (http only to this machine, e.g. through an SSH tunnel)`,
    EXIT.usage,
  );
}

/** The platform root key: PLATFORM_ROOT_KEY, or .dev.vars for a local plinth. */
export function platformKey(/** @type {string} */ url) {
  if (process.env.PLATFORM_ROOT_KEY) return checkedKey(process.env.PLATFORM_ROOT_KEY, "PLATFORM_ROOT_KEY");
  const key = isLocal(url) ? readDevVars().PLATFORM_ROOT_KEY : undefined;
  if (!key) throw new CliError("set PLATFORM_ROOT_KEY (the platform root key of the plinth at --url)", EXIT.usage);
  return checkedKey(key, "PLATFORM_ROOT_KEY in .dev.vars");
}

/** Where {@link platformKey} takes the root key from for `url`, as an operator names it. */
export function platformKeySource(/** @type {string} */ url) {
  if (process.env.PLATFORM_ROOT_KEY) return "PLATFORM_ROOT_KEY in the environment";
  return isLocal(url) ? "PLATFORM_ROOT_KEY in .dev.vars" : "nowhere";
}

/**
 * What a 401 to a platform command means, which the server does not say (it tells a caller
 * nothing about a refused credential): the key sent is not the one the server runs with.
 */
export function rootKeyHint(/** @type {string} */ url) {
  return `the platform root key sent (${platformKeySource(url)}) must equal the PLATFORM_ROOT_KEY of the plinth at ${url} (its secret when deployed, its .dev.vars under npm start)`;
}

/**
 * A tenant's API key: the file named by --key-file, else PLINTH_KEY. `warn` is told of a key
 * file others may read (the command still runs).
 */
export function tenantKey(
  /** @type {string | undefined} */ keyFile,
  /** @type {(warning: import("./cli-stderr.mjs").Warning) => void} */ warn = warnOnStderr,
) {
  if (keyFile !== undefined) {
    let text;
    try {
      text = readFileSync(keyFile, "utf8");
    } catch (error) {
      throw new CliError(`cannot read --key-file ${keyFile}: ${error.code ?? error.message}`, EXIT.usage);
    }
    const open = keyFileModeWarning(keyFile);
    if (open) warn(open);
    const key = text.trim();
    if (!key) throw new CliError(`--key-file ${keyFile} is empty`, EXIT.usage);
    return checkedKey(key, `--key-file ${keyFile}`);
  }
  const key = process.env.PLINTH_KEY;
  if (!key) throw new CliError("set PLINTH_KEY (an API key of the tenant) or pass --key-file <path>", EXIT.usage);
  return checkedKey(key, "PLINTH_KEY");
}

/**
 * The header a plinth answers with when the request got in with a secret being rotated out
 * (its value names the variable, e.g. PLATFORM_ROOT_KEY_PREVIOUS; docs/operations.md).
 */
export const DEPRECATED_CREDENTIAL_HEADER = "Plinth-Deprecated-Credential";

// The variables already warned of: a command (one per process) warns once, however many
// requests and clients it makes.
const warnedOf = new Set();

/**
 * The warning for a command let in by `variable`, a secret being rotated out; undefined for a
 * value no plinth sends (the warning must not print whatever a server put in a header).
 *
 * @returns {import("./cli-stderr.mjs").Warning | undefined}
 */
export function deprecatedCredentialWarning(/** @type {string} */ variable, /** @type {string} */ url) {
  const match = /^([A-Z][A-Z0-9_]{0,63})_PREVIOUS$/.exec(variable);
  if (!match) return undefined;
  const current = match[1];
  return {
    warning: "deprecated_credential",
    variable,
    current,
    url,
    detail: `${url} let this command in with ${variable}, the ${current} being rotated out: switch to the new ${current} now (the old one stops working when ${variable} is deleted)`,
  };
}

/** A warning as the one human stderr line, for a caller without a command's stderr (the bench). */
const warnOnStderr = (/** @type {import("./cli-stderr.mjs").Warning} */ warning) =>
  console.error(`plinth: warning: ${warning.detail}`);

/**
 * The header every plinth answer carries (src/kernel/http/request-id.ts puts it on each, the
 * errors and the health checks included): an answer without it came from something else.
 */
const REQUEST_ID_HEADER = "X-Request-Id";

/**
 * Throws a network CliError (exit 3) when what answers at `url` is no plinth (a wrong port, a
 * receiver, another service, a proxy's page): a success the CLI reads as JSON that is not JSON
 * (openapi-fetch's parse failure said "cannot reach <url>: Unexpected token …", sending its user
 * after a network fault), or any answer but a 5xx without the request id every plinth answer
 * carries. Another service's JSON was printed as a record of dashes, exit 0 (`keys create`
 * adding "store it now" under an empty key), and its HTML 404 read as plinth refusing, exit 1.
 * A 5xx without one stays the failure it is (exit 1): a proxy's or the platform's error page in
 * front of a plinth that failed. Only an answer whose type does not say JSON is read twice.
 *
 * @param {string} url
 * @param {Response} response
 * @param {string} parseAs
 */
async function refuseNotPlinth(url, response, parseAs) {
  const type = response.headers.get("content-type") ?? "";
  const what = `${url} answered ${response.status} with ${type.split(";")[0] || "no content type"}`;
  const hint = "is a plinth there? pass --url or set PLINTH_URL to the plinth's address";
  if (response.ok && response.status !== 204 && parseAs === "json" && !type.includes("json")) {
    const text = await response.clone().text();
    if (text !== "") {
      try {
        JSON.parse(text);
      } catch {
        throw new CliError(`${what}, not plinth's JSON: ${hint}`, EXIT.network);
      }
    }
  }
  if (response.status < 500 && !response.headers.has(REQUEST_ID_HEADER)) {
    throw new CliError(`${what}, without the ${REQUEST_ID_HEADER} every plinth answer carries: ${hint}`, EXIT.network);
  }
}

/**
 * How long one request of a remote command may take, its answer's body included: what a plinth
 * answers in milliseconds, with room for a slow link. Without a bound, a server that took the
 * connection and never answered held the command for Node's 300 s, with no word of why.
 */
export const DEFAULT_TIMEOUT = "1m";

/**
 * The bound of a command whose one request does a run's worth of work: `jobs run` waits for the
 * job's run, a replay, rebuild or reencrypt page and an `audit check` step each go through
 * thousands of records, an `audit export` returns the whole chain.
 */
export const LONG_TIMEOUT = "15m";

/**
 * A fetch that gives up on a request after `timeout`, the answer's body read included (a server
 * can send its headers and then nothing): exit 3 (nothing answered), naming the URL and the bound.
 *
 * @param {string} url
 * @param {{ ms: number, spelled: string, flag: boolean }} timeout
 * @returns {typeof fetch}
 */
function boundedFetch(url, timeout) {
  return async (request, init) => {
    try {
      return await fetchWithin(request, init, timeout);
    } catch (error) {
      if (!(error instanceof NoAnswer)) throw error;
      const which = timeout.flag
        ? `--timeout ${timeout.spelled}`
        : `the default; --timeout <duration>, e.g. 5m, waits longer`;
      throw new CliError(`no answer from ${url} within ${timeout.spelled} (${which})`, EXIT.network);
    }
  };
}

/** Whether `value` can be one path segment: "" is none, and URL parsing takes "." and ".." for folders. */
export const isPathSegment = (/** @type {string} */ value) => value !== "" && value !== "." && value !== "..";

/** The usage error of `value`, no path segment, given as `what` (`<tenant-id>`, `--tenant`). */
export const notSegmentMessage = (/** @type {string} */ what, /** @type {string} */ value) =>
  `${what} is ${value === "" ? "empty" : `"${value}"`}: name one (it goes in the URL's path, where "", "." and ".." address another resource)`;

/**
 * openapi-fetch's path serializer (each value through encodeURIComponent), refusing a value
 * that is no path segment: `tenants get ..` asked for GET /api/v1/platform/ (".." climbs a
 * folder once the URL is parsed) and `tenants get ""` for /tenants/, and printed the API's
 * "no route" as if plinth had refused the tenant. A usage error naming the argument instead;
 * `argumentOf` names it (a command's `<tenant-id>`, `--tenant`), else the path's parameter.
 *
 * @param {((value: string) => string | undefined) | undefined} argumentOf
 * @returns {typeof defaultPathSerializer}
 */
function segmentsOnly(argumentOf) {
  return (pathname, params) => {
    for (const [name, value] of Object.entries(params ?? {})) {
      if (!pathname.includes(`{${name}}`) || isPathSegment(String(value))) continue;
      throw new CliError(notSegmentMessage(argumentOf?.(String(value)) ?? `{${name}}`, String(value)), EXIT.usage);
    }
    return defaultPathSerializer(pathname, params);
  };
}

/**
 * The typed client of plinth's API at `url`, authenticated with `key`. An answer that says
 * the key is one being rotated out hands {@link deprecatedCredentialWarning} to `warn`, once
 * (a command's stderr, which prints it as a line or, under --json, as JSON).
 *
 * @param {string} url
 * @param {string} [key]
 * @param {(warning: import("./cli-stderr.mjs").Warning) => void} [warn]
 * @param {{ timeout?: { ms: number, spelled: string, flag: boolean },
 *   argumentOf?: (value: string) => string | undefined }} [bounds] each request's timeout (none
 *   without it: the bench's replays), and the command's argument a path segment came from
 * @returns {import("openapi-fetch").Client<import("../../src/generated/api").paths>}
 */
export function connect(url, key, warn = warnOnStderr, { timeout, argumentOf } = {}) {
  /** @type {Record<string, string>} */
  const headers = { "user-agent": "plinth-cli" };
  if (key) {
    refuseCleartext(url);
    headers.authorization = `Bearer ${key}`;
  }
  const client = createClient({
    baseUrl: url,
    headers,
    pathSerializer: segmentsOnly(argumentOf),
    ...(timeout ? { fetch: boundedFetch(url, timeout) } : {}),
  });
  client.use({
    async onResponse({ response, options }) {
      await refuseNotPlinth(url, response, options.parseAs);
      const variable = response.headers.get(DEPRECATED_CREDENTIAL_HEADER);
      if (variable === null || warnedOf.has(variable)) return;
      warnedOf.add(variable);
      const warning = deprecatedCredentialWarning(variable, url);
      if (warning) warn(warning);
    },
  });
  return client;
}

/**
 * Waits for a client call and returns its data, or throws the CliError its
 * failure maps to: 3 for no answer, 4 for 401/403, 1 for any other refusal.
 *
 * @template T
 * @param {string} url
 * @param {Promise<{ data?: T, error?: unknown, response: Response }>} pending
 * @returns {Promise<T>}
 */
export async function call(url, pending) {
  let result;
  try {
    result = await pending;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const cause = error?.cause?.code ?? error?.cause?.message ?? error?.message ?? String(error);
    // `PORT=8788 npm start` serves elsewhere than the default URL the CLI tries.
    const hint =
      cause === "ECONNREFUSED" && isLocal(url)
        ? "\nnothing listens there: start it with `npm start`, or, if it runs on another port (PORT=…), pass --url or set PLINTH_URL"
        : "";
    throw new CliError(`cannot reach ${url}: ${cause}${hint}`, EXIT.network);
  }
  const { response } = result;
  if (response.ok) return /** @type {T} */ (result.data);
  const problem = /** @type {Record<string, unknown>} */ (
    result.error && typeof result.error === "object" ? result.error : {}
  );
  const code = typeof problem.code === "string" ? problem.code : `http_${response.status}`;
  let detail = problem.detail ?? problem.title ?? response.statusText ?? "no detail";
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  // A refusal of one field often has the field's message as its detail: name the field
  // after the detail rather than print the same sentence twice.
  const same = errors.filter((e) => e.message === detail);
  if (same.length > 0) detail = `${detail} (${same.map((e) => e.path || "(body)").join(", ")})`;
  const fields = errors
    .filter((e) => !same.includes(e))
    .map((e) => `\n  ${e.path || "(body)"}: ${e.message}`)
    .join("");
  const status = response.status;
  const exitCode = status === 401 || status === 403 ? EXIT.auth : EXIT.api;
  // A server failure's detail says nothing by design (no internals to clients); its request id
  // finds the log lines that do (docs/operations.md, "Logs").
  const where =
    status >= 500 && typeof problem.request_id === "string"
      ? `\nrequest_id ${problem.request_id}: its log lines say what failed`
      : "";
  throw new CliError(`${status} ${code}: ${detail}${fields}${where}`, exitCode, { ...problem, status, code });
}

/** A cell as text: null as "-", lists joined, objects as JSON. */
function cell(value) {
  if (value === null || value === undefined) return "-";
  if (Array.isArray(value)) return value.length === 0 ? "-" : value.map(cell).join(",");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * Rows as an aligned text table with a header line.
 *
 * @param {Record<string, unknown>[]} rows
 * @param {[header: string, pick: (row: any) => unknown][]} columns
 */
export function table(rows, columns) {
  const lines = [columns.map(([h]) => h.toUpperCase()), ...rows.map((r) => columns.map(([, pick]) => cell(pick(r))))];
  // In terminal columns, not code units: a tenant named in Japanese or with an emoji lines up too.
  const widths = columns.map((_, i) => Math.max(...lines.map((l) => displayWidth(l[i]))));
  return lines.map((l) => l.map((c, i) => (i === l.length - 1 ? c : padToWidth(c, widths[i]))).join("  ")).join("\n");
}

/** One record as aligned `field  value` lines. */
export function record(/** @type {Record<string, unknown>} */ obj, /** @type {string[]} */ fields) {
  const width = Math.max(...fields.map((f) => f.length));
  return fields.map((f) => `${f.padEnd(width)}  ${cell(obj[f])}`).join("\n");
}
