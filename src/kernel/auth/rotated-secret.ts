import type { Context } from "hono";
import type { AppEnv } from "../env";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";

/** Which value of a rotated secret a presented credential is. */
export type SecretMatch = "current" | "previous" | "none";

/** The variables that hold a secret's value being rotated out. */
export type PreviousSecret = "PLATFORM_ROOT_KEY_PREVIOUS" | "METRICS_TOKEN_PREVIOUS";

/**
 * Compares `presented` with the secret's current value and the one being rotated out, each
 * with `equal` (a constant-time compare). Both compares always run, so the time taken does
 * not tell which value matched.
 *
 * @example
 * matchRotated(token, config.metricsToken, config.metricsTokenPrevious, timingSafeEqual); // "previous"
 */
export function matchRotated(
  presented: string,
  current: string | undefined,
  previous: string | undefined,
  equal: (a: string, b: string) => boolean,
): SecretMatch {
  const isCurrent = current !== undefined && equal(presented, current);
  const isPrevious = previous !== undefined && equal(presented, previous);
  if (isCurrent) return "current";
  return isPrevious ? "previous" : "none";
}

/**
 * The response header that names the previous secret a request was let in by: the log and the
 * metric tell the operator, this tells the sender itself (the `plinth` CLI warns on it).
 */
export const DEPRECATED_CREDENTIAL_HEADER = "Plinth-Deprecated-Credential";

/**
 * Records that a request was let in by the previous value of a secret: a warning line,
 * `plinth_previous_secret_uses_total{variable}` and the response header
 * {@link DEPRECATED_CREDENTIAL_HEADER}, so the operator sees who still sends it and knows when
 * removing it refuses no one, and the sender learns it should move. Names the variable, never
 * the value. The header is prepared on the context, so it reaches a response the route builds
 * with `c`; a middleware whose route may answer otherwise (an error) sets it again after `next`.
 */
export function notePreviousSecret(c: Context<AppEnv>, variable: PreviousSecret): void {
  isolateRecorder.inc(METRICS.previousSecretUses, [variable]);
  c.get("log").warn("request authenticated with a previous secret: move its sender to the current one", {
    variable,
  });
  c.header(DEPRECATED_CREDENTIAL_HEADER, variable);
}
