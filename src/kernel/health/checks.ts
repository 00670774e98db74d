import { loadSigningKeys, SigningKeysError } from "../auth/signing-keys";
import { type MissingVersionSeen, missingVersionsSeen, notAuthenticVersionsSeen } from "../crypto/unseal-failures";
import { realSleeper, type Sleeper } from "../resilience/sleep";
import { absentTables, missingTablesProblem, tablesOfApplied } from "./migration-tables";

/**
 * A readiness check: resolves when the dependency is usable, throws an Error
 * whose message (safe to show to operators) says what is wrong.
 */
export interface HealthCheck {
  name: string;
  run(env: Env): Promise<void>;
  /** After a pass: something an operator must see that readiness does not hinge on, or null. */
  warning?(): string | null;
}

export interface CheckResult {
  ok: boolean;
  latency_ms: number;
  error?: string;
  /** A passing check's note to the operator (it does not make the answer 503). */
  warning?: string;
}

/** Thrown by checks for failures whose message is meant for the response. */
export class CheckFailed extends Error {
  override name = "CheckFailed";
}

const TIMEOUT_MS = 3000;

async function runOne(check: HealthCheck, env: Env, sleeper: Sleeper): Promise<CheckResult> {
  // Latency is a duration: the monotonic clock, not the time of day.
  const started = performance.now();
  // The timeout is a sleep on the injected sleeper, ended (aborted) in `finally` once the check settled.
  const timer = new AbortController();
  try {
    await Promise.race([
      check.run(env),
      sleeper.sleep(TIMEOUT_MS, timer.signal).then(() => {
        throw new CheckFailed(`timed out after ${TIMEOUT_MS} ms`);
      }),
    ]);
    const latency_ms = Math.round(performance.now() - started);
    const warning = check.warning?.() ?? null;
    return warning === null ? { ok: true, latency_ms } : { ok: true, latency_ms, warning };
  } catch (error) {
    // Only messages written for operators leave; driver errors may carry internals.
    const message = error instanceof CheckFailed ? error.message : "check failed (see logs)";
    return { ok: false, latency_ms: Math.round(performance.now() - started), error: message };
  } finally {
    timer.abort();
  }
}

/**
 * Runs every check concurrently; each is bounded by a timeout counted on `sleeper` (the
 * platform's: the real timers unless a test brings a `manualTime`'s).
 */
export async function runChecks(
  checks: readonly HealthCheck[],
  env: Env,
  onFailure: (name: string, error: unknown) => void = () => {},
  sleeper: Sleeper = realSleeper,
): Promise<{ ok: boolean; checks: Record<string, CheckResult> }> {
  const results = await Promise.all(
    checks.map(async (check) => {
      const result = await runOne(
        {
          name: check.name,
          ...(check.warning ? { warning: check.warning } : {}),
          run: (e) =>
            check.run(e).catch((error: unknown) => {
              onFailure(check.name, error);
              throw error;
            }),
        },
        env,
        sleeper,
      );
      return [check.name, result] as const;
    }),
  );
  return { ok: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
}

/** D1 answers a trivial query. */
export const d1Check: HealthCheck = {
  name: "d1",
  async run(env) {
    const row = await env.DB.prepare("select 1 as one").first<{ one: number }>();
    if (row?.one !== 1) throw new CheckFailed("select 1 returned an unexpected result");
  },
};

/**
 * The D1 migrations applied, in order (wrangler's `d1_migrations` table); null before
 * the first `wrangler d1 migrations apply` made that table.
 */
export async function appliedMigrations(db: D1Database): Promise<string[] | null> {
  try {
    const { results } = await db.prepare("select name from d1_migrations order by id").all<{ name: string }>();
    return results.map((r) => r.name);
  } catch (error) {
    if (String(error).includes("no such table")) return null;
    throw error;
  }
}

/**
 * The D1 migrations applied (wrangler's `d1_migrations` table) are exactly the
 * ones shipped in `migrations/`, in order: a deploy that forgot
 * `wrangler d1 migrations apply` is not ready. And the tables the applied ones
 * made (`tables`, the generated `MIGRATION_TABLES`) are there: one renamed or
 * dropped by hand fails every read of it while `d1_migrations` looks complete.
 */
export function migrationsCheck(
  expected: readonly string[],
  tables: Readonly<Record<string, readonly string[]>> = {},
): HealthCheck {
  return {
    name: "migrations",
    async run(env) {
      const applied = await appliedMigrations(env.DB);
      if (applied === null) {
        if (expected.length === 0) return;
        throw new CheckFailed(`no migrations applied; pending: ${expected.join(", ")}`);
      }
      const pending = expected.filter((name) => !applied.includes(name));
      const unknown = applied.filter((name) => !expected.includes(name));
      const problems: string[] = [];
      if (pending.length > 0) problems.push(`pending: ${pending.join(", ")}`);
      if (unknown.length > 0) problems.push(`applied but not shipped: ${unknown.join(", ")}`);
      const made = tablesOfApplied(applied, tables);
      const absent = new Set(await absentTables(env.DB, [...new Set(made.map((m) => m.table))]));
      const missing = missingTablesProblem(made.filter((m) => absent.has(m.table)));
      if (missing !== null) problems.push(missing);
      if (problems.length > 0) throw new CheckFailed(problems.join("; "));
    },
  };
}

/**
 * A Durable Object namespace answers: its `readyz` object's `ping` (no
 * storage touched), named `do:<class>` in the report.
 */
export function objectCheck(className: string, ping: (env: Env) => Promise<unknown>): HealthCheck {
  return { name: `do:${className}`, run: async (env) => void (await ping(env)) };
}

/**
 * The EVENTS queue binding is there and is a producer. Nothing is sent: a
 * readiness probe must not put messages on the queue every few seconds.
 */
export const queueCheck: HealthCheck = {
  name: "queue",
  async run(env) {
    if (typeof env.EVENTS?.send !== "function" || typeof env.EVENTS.sendBatch !== "function") {
      throw new CheckFailed("the EVENTS binding is not a queue producer");
    }
  },
};

/** BLAKE2b-512 of the empty input (RFC 7693), the first 8 bytes in hex. */
const BLAKE2B_EMPTY_PREFIX = "786a02f742015903";

/**
 * The WebAssembly crypto core is instantiated and computes: BLAKE2b of the
 * empty input against its published value. A core that did not load would
 * fail every login and every envelope seal.
 */
export function wasmCheck(blake2b: (input: Uint8Array) => Uint8Array): HealthCheck {
  return {
    name: "wasm",
    async run() {
      const digest = blake2b(new Uint8Array(0));
      const hex = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
      if (hex !== BLAKE2B_EMPTY_PREFIX) throw new CheckFailed("the crypto core computed a wrong BLAKE2b digest");
    },
  };
}

/**
 * JWT_SIGNING_KEYS loads: each key a usable Ed25519 pair whose x is d's public key. The
 * config check sees only the shape; a pair that does not load fails every login, refresh
 * and token check, so the deployment is not ready. Loaded once per isolate (cached), so
 * later probes cost a map lookup.
 */
export const signingKeysCheck: HealthCheck = {
  name: "signing_keys",
  async run(env) {
    try {
      await loadSigningKeys(env.JWT_SIGNING_KEYS);
    } catch (error) {
      // Its message names the key and the fault, never key material.
      if (error instanceof SigningKeysError) throw new CheckFailed(error.message);
      throw error;
    }
  },
};

/**
 * The ENCRYPTION_KEYS versions this isolate needed and lacked (values sealed under a
 * version removed too early), or whose listed key refused values sealed under it (a new
 * key put under an old version number), reported as a warning: it reads what the envelope recorded
 * when such a value failed to open, so it costs nothing. It does not fail readiness: every
 * isolate has the same keys, so taking one out of rotation helps nothing, and the platform
 * serves everything else (docs/operations.md, "Rotating keys"). Alert on
 * `plinth_unseal_failures_total{reason="unknown_key_version"}`.
 */
export const sealedValuesCheck: HealthCheck = {
  name: "sealed_values",
  run: async () => {},
  warning() {
    const notes: string[] = [];
    const missing = missingVersionsSeen();
    if (missing.length > 0)
      notes.push(
        `ENCRYPTION_KEYS lacks key version ${versionsOf(missing)}, which stored values are sealed under (failed to open here: ${failuresOf(missing)}): put it back, then run plinth crypto reencrypt`,
      );
    const refused = notAuthenticVersionsSeen();
    if (refused.length > 0)
      notes.push(
        `stored values do not open under the key ENCRYPTION_KEYS gives version ${versionsOf(refused)} (failed to open here: ${failuresOf(refused)}): if that version's key was changed, put its old key back (a new key takes a new version number); else the values were altered`,
      );
    return notes.length === 0 ? null : notes.join("; ");
  },
};

const versionsOf = (seen: readonly MissingVersionSeen[]) =>
  [...new Set(seen.map((s) => s.version))].sort((a, b) => a - b).join(", ");
const failuresOf = (seen: readonly MissingVersionSeen[]) =>
  seen.map((s) => `${s.failures} ${s.kind} under v${s.version}`).join(", ");
