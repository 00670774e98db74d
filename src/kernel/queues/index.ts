import { createQueueHandler } from "../events/queue";
import type { PlatformParts } from "../modules/types";
import { createMailConsumer, isMailQueue } from "../notify/consumer";
import { rawBatch } from "../telemetry";

/**
 * The Worker's `queue()` entry: each batch goes to the consumer of its queue,
 * told by the queue's name (a batch names its queue, not its binding):
 * `…-mail` and `…-mail-dlq` to the mail consumer (kernel/notify), every other
 * queue (`…-events`, `…-events-dlq`) to the events consumer. Both consumers
 * are the kernel's own; modules reach them through the events they publish
 * and the Notifier port, so no module is named here. A module that needs a
 * queue of its own would add a `queues` field to ModuleDef and a branch here
 * that looks it up by name; none does yet.
 */
export function createQueueRouter(parts: PlatformParts) {
  const events = createQueueHandler(parts);
  const mail = createMailConsumer(parts);
  return async (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> => {
    // With tracing on, `batch` is the library's Proxy, whose retry() drops `delaySeconds` (see rawBatch).
    if (isMailQueue(batch.queue)) return mail(rawBatch(batch), env, ctx);
    return events(batch, env, ctx);
  };
}
