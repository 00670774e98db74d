import type { ModuleDef } from "../../kernel/modules/types";
import { createRouter } from "../../kernel/openapi/router";
import { purgeTokens } from "./jobs";
import { lifecycleRoutes } from "./lifecycle-routes";
import { tenantLookup } from "./lookup";
import { manifest } from "./manifest";
import { tenants as tenantsTable } from "./read-model";
import { platformRoutes } from "./routes";

/**
 * The `tenants` module factory: the tenant registry (D1 `tenants`), the
 * request path's tenant lookup, `/api/v1/platform` for operators (create,
 * change, suspend, resume), and the hourly purge of every tenant directory's
 * expired tokens. A tenant's own state lives in its identity directory.
 */
export const tenants = () =>
  ({
    ...manifest,
    tables: { tenants: tenantsTable },
    routes: createRouter().route("/", platformRoutes).route("/", lifecycleRoutes),
    auth: { tenants: tenantLookup },
    jobs: [purgeTokens],
  }) satisfies ModuleDef;
