import type { ModuleDef } from "../../kernel/modules/types";
import { createRouter } from "../../kernel/openapi/router";
import { deletionRoutes } from "./deletion-routes";
import { eraseDeleted } from "./erasure-job";
import { applyGrants } from "./grants-job";
import { purgeTokens } from "./jobs";
import { lifecycleRoutes } from "./lifecycle-routes";
import { tenantLookup } from "./lookup";
import { manifest } from "./manifest";
import { rateLimitsRoutes } from "./rate-limits-routes";
import { tenants as tenantsTable } from "./read-model";
import { resendUnqueuedMail } from "./resend-mail-job";
import { platformRoutes } from "./routes";
import { sweepErased } from "./sweep-job";

/**
 * The `tenants` module factory: the tenant registry (D1 `tenants`), the
 * request path's tenant lookup, `/api/v1/platform` for operators (create,
 * change, suspend, resume, delete, clear its own rate limits), the hourly purge of every tenant directory's
 * expired tokens, the hourly sync of the modules' grants to existing tenants' roles, the erasure of deleted tenants and the hourly sweep of rows written for them after it, and each minute the resend of mail the MAIL queue would not take. A tenant's own state lives in its identity directory.
 */
export const tenants = () =>
  ({
    ...manifest,
    tables: { tenants: tenantsTable },
    routes: createRouter()
      .route("/", platformRoutes)
      .route("/", lifecycleRoutes)
      .route("/", deletionRoutes)
      .route("/", rateLimitsRoutes),
    auth: { tenants: tenantLookup },
    jobs: [purgeTokens, eraseDeleted, sweepErased, applyGrants, resendUnqueuedMail],
  }) satisfies ModuleDef;
