import { objectCheck } from "../../kernel/health/checks";
import type { ModuleDef } from "../../kernel/modules/types";
import { createRouter } from "../../kernel/openapi/router";
import { apiKeyAuthenticator, jwtAuthenticator } from "./authenticators";
import { pingDirectory } from "./directory/contract";
import { identityErrors } from "./errors";
import { IdentityEventSchema } from "./events";
import { manifest } from "./manifest";
import { apiKeyIndex } from "./read-model";
import { authRoutes } from "./routes/auth";
import { jwksRoutes } from "./routes/jwks";
import { keyRoutes } from "./routes/keys";
import { passwordRoutes } from "./routes/password";
import { roleRoutes } from "./routes/roles";
import { settingsRoutes } from "./routes/settings";
import { twoFactorRoutes } from "./routes/two-factor";
import { twoFactorLoginRoutes } from "./routes/two-factor-login";
import { userRoutes } from "./routes/users";
import { tenantSettingsLookup } from "./settings";

/**
 * The `identity` module factory: mounted at `/api/v1` (auth, me, users,
 * admin/api-keys, admin/roles), the JWKS at the origin's root, and the
 * API-key and JWT authenticators of the request path. Its single writer is
 * the TenantDirectory Durable Object (one per tenant).
 */
export const identity = () =>
  ({
    ...manifest,
    routes: createRouter()
      .route("/", authRoutes)
      .route("/", passwordRoutes)
      .route("/", userRoutes)
      .route("/", keyRoutes)
      .route("/", roleRoutes)
      .route("/", settingsRoutes)
      .route("/", twoFactorRoutes)
      .route("/", twoFactorLoginRoutes),
    root_routes: jwksRoutes,
    auth: { authenticators: [apiKeyAuthenticator, jwtAuthenticator], settings: tenantSettingsLookup },
    errors: identityErrors,
    tables: { apiKeyIndex },
    events: { publishes: IdentityEventSchema },
    bindings: { TENANT_DIRECTORY: "durable_object" },
    health: [objectCheck("TenantDirectory", pingDirectory)],
  }) satisfies ModuleDef;
