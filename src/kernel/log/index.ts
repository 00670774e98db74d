import { isoNow, systemClock } from "../clock";
import type { LogLevel } from "../config";
import { ConfigError, configErrorFields } from "../errors/config-error";
import { traceFields } from "../telemetry/active";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

/** Structured JSON logger: one object per line, with bound fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. request_id, tenant_id). */
  child(fields: LogFields): Logger;
}

/** Where log lines go; the console in the Worker, an array in tests. */
export type LogSink = (level: LogLevel, line: string) => void;

const consoleSink: LogSink = (level, line) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

/**
 * A failed query's message without the values bound to it. drizzle's wrapper reads
 * `Failed query: <sql>\nparams: <every value>`, and the values are rows' data (an address, a
 * name, a mail's subject and parts with their tokens), which no shape-based redaction can
 * recognise: the statement and the count are kept, the values left out, in the stack too.
 */
function withoutParams(error: Error): { message: string; stack: string | undefined } {
  const query: unknown = Reflect.get(error, "query");
  const params: unknown = Reflect.get(error, "params");
  if (typeof query !== "string" || !Array.isArray(params)) return { message: error.message, stack: error.stack };
  const message = `Failed query: ${query}\nparams: [${params.length} left out]`;
  const stack = error.stack?.includes(error.message) ? error.stack.replace(error.message, () => message) : undefined;
  return { message, stack };
}

/**
 * An error as one line, `Name: message` as `String(error)` writes it, a failed query's values
 * left out: for a message that quotes an error (a wrapper's), which errorFields cannot clean once
 * it is baked into another error's text.
 *
 * @example
 * new Error(`replay failed: ${errorText(first)}`, { cause: first });
 */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${withoutParams(error).message}` : String(error);
}

/**
 * Turns an Error into loggable fields, keeping the stack for operators (a failed query's values
 * left out). A ConfigError (a variable to fix) gets its variable instead of a stack, which
 * would point at the code that met it as for a bug: on every line that logs one (a request's,
 * a queue message's retry, a job's, an actor's).
 */
export function errorFields(error: unknown): LogFields {
  if (error instanceof ConfigError) return configErrorFields(error);
  if (error instanceof Error) {
    // Drivers' errors arrive wrapped (drizzle's "Failed query: …"); the causes say what actually went wrong.
    const causes: string[] = [];
    for (let e: unknown = error.cause; e !== undefined && e !== null && causes.length < 3; ) {
      causes.push(errorText(e));
      e = e instanceof Error ? e.cause : undefined;
    }
    const { message, stack } = withoutParams(error);
    return {
      error_name: error.name,
      error_message: message,
      ...(causes.length > 0 ? { error_cause: causes.join(" <- ") } : {}),
      stack,
    };
  }
  return { error_message: String(error) };
}

/** What a redacted value becomes. */
export const REDACTED = "[redacted]";

/**
 * Field names whose values are secrets whatever they hold: passwords, tokens,
 * keys, credentials, cookies, signatures, nonces, one-time codes, seeds (a tenant's key
 * seed, a sign-in's seed, which is its PKCE verifier), a login's two-factor challenge and
 * a PKCE verifier. Case-insensitive, so `new_password`, `refresh_token`, `admin_key`,
 * `platform_root_key`, `signing_keys`, `Authorization`, `webhook_sig`, `totp`, `key_seed`
 * and `code_verifier` all are; names that mention a key by id (`key_id`, `key_prefix`) are
 * not. `code` and `state` are not either: they are the usual names of error codes and of a
 * breaker's or a post's state. An SSO `state` is masked by its shape instead (a sealed
 * value, below); a provider's authorization code has none, and no line carries one (the
 * request line names the route, not the URL with its query).
 */
const SECRET_KEY =
  /pass(word|wd|phrase)|secret|token|authori[sz]ation|cookie|apikey|credential|(^|_)keys?$|(^|_)t?otp($|_)|recovery_?codes?|signature|(^|_)sig$|nonce|(^|_)(seeds?|challenge|verifier)$/i;

/**
 * Secrets recognisable by their shape wherever they appear, including in
 * messages and stacks: plinth's API keys and one-time tokens (`plk_…`, `plr_…`,
 * `plv_…`, `plp_…`, `plc_…`), webhook signing secrets (`whsec_…`), JWTs, `Bearer`
 * credentials, and sealed values (`v<version>.<nonce>.<ciphertext>`, crypto/envelope.ts):
 * an SSO sign-in's `state` is one, carried in URLs as it is, and no sealed value is worth a
 * log line's room. Its key version is kept: it says which key an operator is looking at.
 */
const SECRET_VALUES: [RegExp, string][] = [
  // First: a ciphertext's base64url may hold what reads as another shape (`…-plk_…`), and masking
  // that part first would leave the rest unrecognised.
  [/\b(v\d{1,7})\.[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{22,}/g, `$1.${REDACTED}`],
  [/\b(pl[a-z])_[A-Za-z0-9_-]{16,}/g, `$1_${REDACTED}`],
  [/\bwhsec_[A-Za-z0-9+/=_-]{16,}/g, `whsec_${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
];

function scrub(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_VALUES) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A copy of `value` safe to log: secret-named fields replaced, secret-shaped
 * strings masked, nesting bounded (deeper values and cycles are elided).
 */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === "string") return scrub(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= 6 || seen.has(value)) return "[elided]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      SECRET_KEY.test(k) && v !== null && v !== undefined && typeof v !== "boolean"
        ? REDACTED
        : redact(v, depth + 1, seen);
  }
  return out;
}

/**
 * Creates a logger writing JSON lines at `level` and above: `ts`, `level`,
 * `msg`, `trace_id` and `span_id` when a span is active (tracing on), the
 * bound fields, then the line's own. Every line is redacted on the
 * way out ({@link redact}): a secret passed by mistake never reaches the logs.
 *
 * @example
 * const log = createLogger("info").child({ request_id: "abc" });
 * log.info("request", { status: 200 });
 * // {"ts":"…","level":"info","msg":"request","request_id":"abc","status":200}
 */
export function createLogger(level: LogLevel, bound: LogFields = {}, sink: LogSink = consoleSink): Logger {
  const threshold = RANK[level];
  const write = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[lvl] < threshold) return;
    const ts = isoNow(systemClock);
    // The active span's ids join the line to its trace; undefined (one boolean test) when tracing is off.
    const span = traceFields();
    let text: string;
    try {
      text = JSON.stringify(redact({ ts, level: lvl, msg, ...span, ...bound, ...fields }));
    } catch {
      text = JSON.stringify(redact({ ts, level: lvl, msg, ...span, ...bound, log_error: "unserialisable fields" }));
    }
    sink(lvl, text);
  };
  return {
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (fields) => createLogger(level, { ...bound, ...fields }, sink),
  };
}
