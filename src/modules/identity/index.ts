import type { ModuleDef } from "../../kernel/modules/types";
import { createRouter } from "../../kernel/openapi/router";
import { apiKeyAuthenticator, jwtAuthenticator } from "./authenticators";
import { manifest } from "./manifest";
import { authRoutes } from "./routes/auth";
import { devRoutes } from "./routes/dev";
import { jwksRoutes } from "./routes/jwks";
import { keyRoutes } from "./routes/keys";
import { passwordRoutes } from "./routes/password";
import { roleRoutes } from "./routes/roles";
import { userRoutes } from "./routes/users";

/** The `identity` module factory: mounted at `/api/v1` (auth, me, users, admin/api-keys, dev). */
export const identity = () =>
  ({
    ...manifest,
    routes: createRouter()
      .route("/", authRoutes)
      .route("/", passwordRoutes)
      .route("/", userRoutes)
      .route("/", keyRoutes)
      .route("/", roleRoutes)
      .route("/", devRoutes),
    root_routes: jwksRoutes,
    auth: { authenticators: [apiKeyAuthenticator, jwtAuthenticator] },
  }) satisfies ModuleDef;
