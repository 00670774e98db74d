import { type Config, loadConfig } from "../config";
import { createLogger, type Logger } from "../log";
import type { EnvNeeds } from "../modules/types";

/** How long a batch waits under an invalid config before it is tried again, s. */
export const INVALID_CONFIG_RETRY_S = 60;

/**
 * A queue batch's config and logger. Invalid config (a variable missing or wrong after a
 * deploy) retries the whole batch in a minute and answers null: nothing is consumed under a
 * config the Worker would refuse for a request, and nothing is lost while the operator fixes it.
 * `retryInvalid` does that retry instead, for a consumer that must settle some messages
 * otherwise (the mail dead-letter queue's last deliveries, which a retry would lose).
 */
export function batchConfig(
  batch: MessageBatch<unknown>,
  env: Env,
  needs: EnvNeeds,
  retryInvalid: (batch: MessageBatch<unknown>, log: Logger) => void = (b) =>
    b.retryAll({ delaySeconds: INVALID_CONFIG_RETRY_S }),
): { config: Config; log: Logger } | null {
  const result = loadConfig(env, needs);
  const log = createLogger(result.ok ? result.config.logLevel : "info", { queue: batch.queue });
  if (!result.ok) {
    log.error("config invalid; retrying batch", { variables: result.issues.map((i) => i.variable) });
    retryInvalid(batch, log);
    return null;
  }
  return { config: result.config, log };
}
