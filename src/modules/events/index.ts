import { processedLedger } from "../../kernel/events/ledger";
import type { ModuleDef } from "../../kernel/modules/types";
import { manifest } from "./manifest";
import { deadLetterRoutes } from "./routes";

/**
 * The `events` module: the dead-letter admin API over the kernel's queue
 * consumer, and the hourly purge of the consumers' idempotency ledger.
 */
export const events = () =>
  ({
    ...manifest,
    routes: deadLetterRoutes,
    jobs: [
      {
        name: "purge-processed",
        cron: "0 * * * *",
        async run({ env, log, clock }) {
          const purged = await processedLedger(env.DB).purge(clock.now());
          if (purged > 0) log.info("processed event ids purged", { purged });
        },
      },
    ],
  }) satisfies ModuleDef;
