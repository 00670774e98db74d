import { createRoute, z } from "@hono/zod-openapi";
import { jwks, loadSigningKeys } from "../../../kernel/auth/jwt";
import { jsonResponse } from "../../../kernel/openapi/blocks";
import { createRouter } from "../../../kernel/openapi/router";

const JwksSchema = z
  .object({
    keys: z.array(
      z.object({
        kty: z.literal("OKP"),
        crv: z.literal("Ed25519"),
        x: z.string(),
        kid: z.string(),
        alg: z.literal("EdDSA"),
        use: z.literal("sig"),
      }),
    ),
  })
  .openapi("Jwks");

const route = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  operationId: "getJwks",
  summary: "Public keys that verify access tokens",
  tags: ["auth"],
  security: [],
  responses: { 200: jsonResponse("the JSON Web Key Set", JwksSchema) },
});

/** `/.well-known/jwks.json`, mounted at the origin root. */
export const jwksRoutes = createRouter().openapi(route, async (c) => {
  const keys = await loadSigningKeys(c.get("config").jwtSigningKeys);
  c.header("Cache-Control", "public, max-age=300");
  return c.json(jwks(keys), 200);
});
