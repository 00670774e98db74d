/** A secret with an overlap: its `_PREVIOUS` twin is accepted alongside it during a rotation. */
const ROTATED = ["PLATFORM_ROOT_KEY", "METRICS_TOKEN"] as const;

/**
 * `PLATFORM_ROOT_KEY_PREVIOUS` or `METRICS_TOKEN_PREVIOUS` set without the current value:
 * refused, naming the variable. A previous value alone would keep an old credential working
 * (and, for /metrics, open the route to it alone) after the operator believes the secret
 * removed, and "previous" means nothing without a current value to move to.
 *
 * @example
 * previousWithoutCurrent({ METRICS_TOKEN_PREVIOUS: "…" }); // [{ variable: "METRICS_TOKEN_PREVIOUS", … }]
 */
export function previousWithoutCurrent(env: Record<string, unknown>): { variable: string; message: string }[] {
  return ROTATED.filter((name) => env[`${name}_PREVIOUS`] !== undefined && env[name] === undefined).map((name) => ({
    variable: `${name}_PREVIOUS`,
    message: `is set without ${name}: put the new value in ${name} first, or remove ${name}_PREVIOUS`,
  }));
}
