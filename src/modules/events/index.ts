import type { ModuleDef } from "../../kernel/modules/types";
import { deadLetterReport, purgeProcessed } from "./jobs";
import { manifest } from "./manifest";
import { deadLetterRoutes } from "./routes";

/**
 * The `events` module: the dead-letter admin API over the kernel's queue
 * consumer, the hourly dead-letter report, and the hourly purge of the
 * consumers' idempotency ledger.
 */
export const events = () =>
  ({
    ...manifest,
    routes: deadLetterRoutes,
    jobs: [purgeProcessed, deadLetterReport],
  }) satisfies ModuleDef;
