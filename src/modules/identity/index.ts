import type { ModuleDef } from "../../kernel/modules/types";
import { createRouter } from "../../kernel/openapi/router";
import { apiKeyAuthenticator, jwtAuthenticator } from "./authenticators";
import { DEFAULT_ROLES } from "./directory/schema";
import { identityErasure } from "./erasure";
import { identityErrors } from "./errors";
import { IdentityEventSchema } from "./events";
import { directorySeeds } from "./key-material";
import { manifest } from "./manifest";
import { memberExport } from "./member-export";
import { memberLookup } from "./members";
import { identityPersonalData } from "./personal-data";
import { apiKeyIndex } from "./read-model";
import { accountRoutes } from "./routes/account";
import { adminPasswordResetRoutes } from "./routes/admin-password-reset";
import { authRoutes } from "./routes/auth";
import { emailRoutes } from "./routes/email";
import { invitationRoutes } from "./routes/invitations";
import { jwksRoutes } from "./routes/jwks";
import { keyRoutes } from "./routes/keys";
import { discoveryRoutes, userinfoRoutes } from "./routes/oidc";
import { passwordRoutes } from "./routes/password";
import { roleRoutes } from "./routes/roles";
import { sessionRoutes } from "./routes/sessions";
import { settingsRoutes } from "./routes/settings";
import { ssoRoutes } from "./routes/sso";
import { ssoAdminRoutes } from "./routes/sso-admin";
import { ssoLinkRoutes } from "./routes/sso-link";
import { ssoUnlinkRoutes } from "./routes/sso-unlink";
import { suspensionRoutes } from "./routes/suspension";
import { twoFactorRoutes } from "./routes/two-factor";
import { twoFactorLoginRoutes } from "./routes/two-factor-login";
import { userRoutes } from "./routes/users";
import { identitySealed } from "./sealed";
import { tenantSettingsLookup } from "./settings";

/**
 * The `identity` module factory: mounted at `/api/v1` (auth, me, users,
 * admin/api-keys, admin/roles, sessions, userinfo), the JWKS and the OpenID
 * Connect discovery document at the origin's root, and the
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
      .route("/", suspensionRoutes)
      .route("/", adminPasswordResetRoutes)
      .route("/", accountRoutes)
      .route("/", emailRoutes)
      .route("/", sessionRoutes)
      .route("/", userinfoRoutes)
      .route("/", keyRoutes)
      .route("/", roleRoutes)
      .route("/", settingsRoutes)
      .route("/", invitationRoutes)
      .route("/", ssoRoutes)
      .route("/", ssoAdminRoutes)
      .route("/", ssoLinkRoutes)
      .route("/", ssoUnlinkRoutes)
      .route("/", twoFactorRoutes)
      .route("/", twoFactorLoginRoutes),
    root_routes: createRouter().route("/", jwksRoutes).route("/", discoveryRoutes),
    auth: {
      authenticators: [apiKeyAuthenticator, jwtAuthenticator],
      settings: tenantSettingsLookup,
      // What other modules' `grants` may add to: a tenant's directory creates these roles.
      roles: DEFAULT_ROLES.map((r) => r.name),
      member_export: memberExport,
      // Other modules ask for one member with the kernel's findMember, never this module's directory.
      members: memberLookup,
      // Each tenant's envelope seed, in its directory: every module seals through the kernel's port.
      tenant_seeds: directorySeeds,
    },
    errors: identityErrors,
    tables: { apiKeyIndex },
    events: { publishes: IdentityEventSchema },
    bindings: { TENANT_DIRECTORY: "durable_object" },
    sealed: identitySealed,
    erasure: identityErasure,
    personal_data: identityPersonalData,
  }) satisfies ModuleDef;
