import type { ModuleDef } from "../../kernel/modules/types";
import { auditLog } from "./contract";
import { auditErrors } from "./errors";
import { hourlyCheckpoints } from "./jobs";
import { manifest } from "./manifest";
import { auditPersonalData } from "./personal-data";
import { auditEntries } from "./read-model";
import { auditRoutes } from "./routes";
import { recordEvents } from "./subscriber";

/**
 * The `audit` module factory: subscribes to every event, appends each to its
 * tenant's AuditLog chain (the AuditLog Durable Object, one per tenant),
 * serves `/api/v1/admin/audit`, and signs hourly checkpoints.
 */
export const audit = () =>
  ({
    ...manifest,
    tables: { auditEntries },
    routes: auditRoutes,
    errors: auditErrors,
    events: { subscribes: [recordEvents] },
    jobs: [hourlyCheckpoints],
    personal_data: auditPersonalData,
    bindings: { AUDIT_LOG: "durable_object" },
    // Offboarding empties the tenant's chain: its trail goes with it (export it first: docs/operations.md).
    erasure: {
      erase: async (tenantId, { env }) => void (await auditLog(env, tenantId).eraseAll({ tenant_id: tenantId })),
    },
  }) satisfies ModuleDef;
