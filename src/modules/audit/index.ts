import type { ModuleDef } from "../../kernel/modules/types";
import { hourlyCheckpoints } from "./jobs";
import { manifest } from "./manifest";
import { auditRoutes } from "./routes";
import { recordEvent } from "./subscriber";

/**
 * The `audit` module factory: subscribes to every event (`"*"`), appends each
 * to its tenant's AuditLog chain, serves `/api/v1/admin/audit`, and signs
 * hourly checkpoints.
 */
export const audit = () =>
  ({
    ...manifest,
    routes: auditRoutes,
    events: { subscribes: { "*": recordEvent } },
    jobs: [hourlyCheckpoints],
  }) satisfies ModuleDef;
