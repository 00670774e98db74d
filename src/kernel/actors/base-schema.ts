import { OUTBOX_SCHEMA } from "../outbox";
import { STREAMS_SCHEMA } from "./events";
import { TIMERS_SCHEMA } from "./timers";

/**
 * Every actor's own tables (timers, outbox, streams), tracked apart from its subclass's schema.
 * Recorded as shipped by `npm run generate` (docs/modules.md, "Shipped storage is append-only"):
 * append a version, never edit one.
 */
export const ACTOR_BASE_SCHEMA: readonly string[][] = [[...(TIMERS_SCHEMA[0] ?? []), ...OUTBOX_SCHEMA, STREAMS_SCHEMA]];
