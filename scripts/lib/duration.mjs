// The one spelling of a duration the CLI reads (`audit verify --max-age`, a remote command's
// --timeout): a whole number and a unit, so `15m` cannot be mistaken for milliseconds.

/** `30s`, `15m`, `24h`, `7d` in milliseconds; null for anything else (a bare number, zero, a week). */
export function durationMs(/** @type {string} */ text) {
  const match = /^([1-9][0-9]*)([smhd])$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2]];
}

/**
 * The longest --timeout: a day, far past any request a plinth serves. Node fires a timer of
 * more than ~24.8 days at once (`--timeout 30d` waited 1 ms), so the bound is a guard too.
 */
const MAX_TIMEOUT_MS = 86_400_000;

/**
 * A `--timeout` as milliseconds, or why it is none (the caller's usage error): one rule for
 * the remote commands and `audit verify --jwks`.
 * @returns {{ ms: number } | { error: string }}
 */
export function timeoutMs(/** @type {string} */ spelled) {
  const ms = durationMs(spelled);
  if (ms === null) return { error: `--timeout ${spelled}: not a duration like 30s, 5m or 1h` };
  if (ms > MAX_TIMEOUT_MS) return { error: `--timeout ${spelled}: at most 24h` };
  return { ms };
}
