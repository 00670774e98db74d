import { z } from "@hono/zod-openapi";
import { principalOf, tenantOf } from "../../../kernel/auth/guards";
import { jsonBody, jsonResponse } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { accountProofBody, proveAccount } from "../account-proof";
import { directory } from "../directory/contract";
import { beginSignIn, notConfigured } from "../sso/begin";

const op = operations(["users"]);

const LinkSchema = accountProofBody({
  redirect_uri: z.string().max(2048).optional().openapi({
    description: "where the callback sends the browser afterwards, one of the provider's app_redirect_uris",
  }),
});

const link = op.post("/me/sso/link", {
  operationId: "linkSso",
  summary: "Link your account to the tenant's identity provider (your password, and with two-factor on a code)",
  access: "user",
  request: { body: jsonBody(LinkSchema) },
  responses: {
    200: jsonResponse(
      "where to send the browser: the provider's authorization endpoint; its callback links the identity to this account and answers { linked: true, issuer } (no tokens: the user is signed in already)",
      z.object({ authorization_url: z.string() }).openapi("SsoLinkStart"),
    ),
    400: problem("redirect_uri is not one the tenant allows, or the provider cannot be used"),
    403: problem(
      "the password is wrong (wrong_password); two-factor is on and the code is missing, wrong or used (wrong_two_factor_code); or the caller is not a user",
    ),
    404: problem("no provider configured (sso_not_configured)"),
    429: problem("too many passwords (policy login) or codes (policy two_factor) tried"),
  },
});

/**
 * `POST /api/v1/me/sso/link`: how an owner, or a user with two-factor on, links their account to
 * the tenant's provider, since a first sign-in never links those by email alone. The user proves
 * the account is theirs as `DELETE /me` asks (password, and a code with two-factor on); the
 * provider then proves the identity, whose verified email must be the account's (the callback
 * refuses another with `403 sso_link_mismatch`). Answers the URL rather than a redirect: the
 * request carries a bearer token, which a browser's navigation would not. The callback links and
 * hands out no session (routes/sso.ts): its state is bound to no browser, so tokens there would sign
 * in whoever the callback URL was sent to.
 */
export const ssoLinkRoutes = createRouter().openapi(link, async (c) => {
  const user = principalOf(c, "user");
  const tenant = tenantOf(c);
  const body = c.req.valid("json");
  const dir = directory(c.env, tenant.id);
  const stored = await dir.ssoProvider();
  if (!stored) throw notConfigured();
  const { proof, verifiedHash } = await proveAccount(c, dir, user.id, body);
  const url = await beginSignIn(c, dir, stored, {
    appRedirect: body.redirect_uri ?? null,
    redirectPath: "body.redirect_uri",
    link: { userId: user.id, proof, verifiedHash },
    // Not bound to a browser: this is an app's fetch, whose answer can set no cookie in the browser
    // the app sends to the provider (docs/identity.md, "Linking an account", says what that leaves).
    browser: null,
  });
  c.header("Cache-Control", "no-store");
  return c.json({ authorization_url: url }, 200);
});
