import { createRoute, z } from "@hono/zod-openapi";
import { tokenRefused } from "../../../kernel/auth/challenge";
import { principalOf } from "../../../kernel/auth/guards";
import { jsonResponse } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { issuerOf } from "../authenticators";
import { directory } from "../directory/contract";

/** Where the JWKS and userinfo are served, relative to the issuer's origin. */
export const JWKS_PATH = "/.well-known/jwks.json";
export const USERINFO_PATH = "/api/v1/auth/userinfo";

const DiscoverySchema = z
  .object({
    issuer: z.string(),
    jwks_uri: z.string(),
    userinfo_endpoint: z.string(),
    id_token_signing_alg_values_supported: z.array(z.literal("EdDSA")),
    response_types_supported: z.array(z.string()),
    subject_types_supported: z.array(z.literal("public")),
    token_endpoint_auth_methods_supported: z.array(z.string()),
    claims_supported: z.array(z.string()),
  })
  .openapi("OpenIdConfiguration");

const discovery = createRoute({
  method: "get",
  path: "/.well-known/openid-configuration",
  operationId: "getOpenIdConfiguration",
  summary: "OpenID Connect discovery: plinth as the issuer of its access tokens",
  tags: ["auth"],
  security: [],
  responses: { 200: jsonResponse("the provider metadata (OpenID Connect Discovery 1.0)", DiscoverySchema) },
});

/**
 * `/.well-known/openid-configuration`, mounted at the origin root. The
 * issuer is the `iss` of the tokens this request would be issued (JWT_ISSUER,
 * else https://PLATFORM_DOMAIN, else the request's origin without a tenant
 * label), and the endpoints
 * sit at that issuer's origin, so a client that discovers from the issuer
 * finds keys that verify its tokens. plinth signs in with its own
 * `/api/v1/auth/login`, not an OAuth authorization endpoint: the document
 * serves resource servers and clients that verify tokens and read userinfo,
 * so it names no authorization or token endpoint and no response type.
 */
export const discoveryRoutes = createRouter().openapi(discovery, (c) => {
  const issuer = issuerOf(c);
  const at = (path: string) => new URL(path, new URL(issuer).origin).toString();
  c.header("Cache-Control", "public, max-age=300");
  return c.json(
    {
      issuer,
      jwks_uri: at(JWKS_PATH),
      userinfo_endpoint: at(USERINFO_PATH),
      id_token_signing_alg_values_supported: ["EdDSA" as const],
      response_types_supported: [],
      subject_types_supported: ["public" as const],
      token_endpoint_auth_methods_supported: ["none"],
      claims_supported: [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "tid",
        "sid",
        "roles",
        "email",
        "email_verified",
        "name",
      ],
    },
    200,
  );
});

const UserInfoSchema = z
  .object({ sub: z.string(), email: z.string(), email_verified: z.boolean(), name: z.string() })
  .openapi("UserInfo");

const userinfo = operations(["auth"]).get("/auth/userinfo", {
  operationId: "getUserInfo",
  summary: "OpenID Connect userinfo of the access token's user",
  access: "user",
  responses: {
    200: jsonResponse("the user's standard claims (OpenID Connect Core 1.0, 5.3)", UserInfoSchema),
    401: problem("no, bad or revoked access token"),
    403: problem("the credential is an API key: userinfo describes users"),
  },
});

/** `GET /api/v1/auth/userinfo`: the signed-in user's `sub`, `email`, `email_verified` and `name`. */
export const userinfoRoutes = createRouter().openapi(userinfo, async (c) => {
  const user = principalOf(c, "user");
  const found = await directory(c.env, user.tenantId).getUser(user.id);
  if (!found) throw tokenRefused("the user no longer exists");
  c.header("Cache-Control", "no-store");
  return c.json({ sub: found.id, email: found.email, email_verified: found.email_verified, name: found.name }, 200);
});
