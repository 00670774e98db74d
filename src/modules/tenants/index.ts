import type { ModuleDef } from "../../kernel/modules/types";
import { tenantLookup } from "./lookup";
import { manifest } from "./manifest";
import { platformRoutes } from "./routes";

/** The `tenants` module factory. */
export const tenants = () =>
  ({
    ...manifest,
    routes: platformRoutes,
    auth: { tenants: tenantLookup },
  }) satisfies ModuleDef;
