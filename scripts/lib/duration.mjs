// The one spelling of a duration the CLI reads (`audit verify --max-age`, a remote command's
// --timeout): a whole number and a unit, so `15m` cannot be mistaken for milliseconds.

/** `30s`, `15m`, `24h`, `7d` in milliseconds; null for anything else (a bare number, zero, a week). */
export function durationMs(/** @type {string} */ text) {
  const match = /^([1-9][0-9]*)([smhd])$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2]];
}
