import { type Config, loadConfig } from "../config";
import { createLogger, type Logger } from "../log";
import type { EnvNeeds } from "../modules/types";

/**
 * A queue batch's config and logger. Invalid config (a variable missing or wrong after a
 * deploy) retries the whole batch in a minute and answers null: nothing is consumed under a
 * config the Worker would refuse for a request, and nothing is lost while the operator fixes it.
 */
export function batchConfig(
  batch: MessageBatch<unknown>,
  env: Env,
  needs: EnvNeeds,
): { config: Config; log: Logger } | null {
  const result = loadConfig(env, needs);
  const log = createLogger(result.ok ? result.config.logLevel : "info", { queue: batch.queue });
  if (!result.ok) {
    log.error("config invalid; retrying batch", { variables: result.issues.map((i) => i.variable) });
    batch.retryAll({ delaySeconds: 60 });
    return null;
  }
  return { config: result.config, log };
}
