import type { Context } from "hono";
import { ACCESS_TOKEN_TTL_SECONDS, loadSigningKeys, signAccessToken } from "../../kernel/auth/jwt";
import type { AppEnv } from "../../kernel/env";
import { issuerOf } from "./authenticators";

/** The response of login and refresh: a new access token for the session and its next refresh token. */
export async function tokenPair(
  c: Context<AppEnv>,
  tenantId: string,
  user: { id: string; roles: string[] },
  familyId: string,
  refreshToken: string,
) {
  const keys = await loadSigningKeys(c.get("config").jwtSigningKeys);
  const access = await signAccessToken(
    keys,
    { sub: user.id, tid: tenantId, roles: user.roles, sid: familyId },
    { issuer: issuerOf(c) },
  );
  return {
    access_token: access,
    refresh_token: refreshToken,
    token_type: "Bearer" as const,
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
  };
}
