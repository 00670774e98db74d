import { type Config, loadConfig } from "../config";
import { createLogger, type Logger } from "../log";
import { METRICS } from "../metrics/catalog";
import { isolateMetrics } from "../metrics/flush";
import type { EnvNeeds } from "../modules/types";

/** How long a batch waits under an invalid config before it is tried again, s. */
export const INVALID_CONFIG_RETRY_S = 60;

/**
 * A queue batch's config and logger. Invalid config (a variable missing or wrong after a
 * deploy) retries the whole batch in a minute and answers null: nothing is consumed under a
 * config the Worker would refuse for a request, and nothing is lost while the operator fixes it.
 * `retryInvalid` does that retry instead, for a consumer that must settle some messages
 * otherwise (a dead-letter queue's last deliveries, which a retry would lose: queues/send-back.ts).
 * Such a batch is counted (plinth_queue_batches_config_invalid_total, and its messages as
 * `retried`), for the caller's flush to send on: a broken config stops every consumer, and its
 * alert should not wait for a backlog to show elsewhere. A last delivery sent back counts as
 * retried too, as the consumers count one sent back after D1 refused it.
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
    const { recorder } = isolateMetrics();
    recorder.inc(METRICS.queueBatchesConfigInvalid, [batch.queue]);
    recorder.inc(METRICS.queueMessages, [batch.queue, "retried"], batch.messages.length);
    retryInvalid(batch, log);
    return null;
  }
  return { config: result.config, log };
}
