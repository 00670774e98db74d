import { PERMISSIONS } from "../../../generated/permissions";
import { tenantOf } from "../../../kernel/auth/guards";
import { AppError, type FieldError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { ETAG_HEADER, IfMatchHeader, ifMatch, jsonBody, jsonResponse } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { directory } from "../directory/contract";
import { identityError, refused, staleVersion } from "../refusals";
import { forgetProvider } from "../sso/client";
import { SsoPutSchema, SsoViewSchema, ssoView } from "../sso/schemas";
import { sealClientSecret, ssoOutboundPolicy, urlRefusal } from "../sso/secrets";

const op = operations(["sso"]);

const notConfigured = () => identityError("sso_not_configured", "this tenant has no identity provider configured");

const get = op.get("/admin/sso", {
  operationId: "getSsoProvider",
  summary: "The tenant's identity provider for single sign-on (never its client secret)",
  access: PERMISSIONS.admin.sso.read,
  responses: {
    200: jsonResponse("the provider; ETag is its version", SsoViewSchema, ETAG_HEADER),
    404: problem("no provider configured (sso_not_configured)"),
  },
});

const put = op.put("/admin/sso", {
  operationId: "putSsoProvider",
  summary: "Configure the tenant's identity provider (OpenID Connect); honours If-Match",
  access: PERMISSIONS.admin.sso.write,
  request: { headers: IfMatchHeader, body: jsonBody(SsoPutSchema) },
  responses: {
    200: jsonResponse("the provider after the change", SsoViewSchema, ETAG_HEADER),
    400: problem("an invalid field, an issuer the outbound rules refuse, an unknown role, or no client secret"),
    403: problem(
      "a mapped role carries permissions the caller does not hold, or a caller who is not an owner changes the issuer, client_id, allowed_domains or app_redirect_uris (they decide who signs in as whom, owners included)",
    ),
    412: problem("If-Match names another version"),
  },
});

const remove = op.delete("/admin/sso", {
  operationId: "deleteSsoProvider",
  summary: "Remove the tenant's identity provider; sign-ins under way no longer complete",
  access: PERMISSIONS.admin.sso.write,
  responses: { 204: { description: "removed" }, 404: problem("no provider configured (sso_not_configured)") },
});

/** `/api/v1/admin/sso`: the tenant's one OpenID Connect provider. */
export const ssoAdminRoutes = createRouter()
  .openapi(get, async (c) => {
    const stored = await directory(c.env, tenantOf(c).id).ssoProvider();
    if (!stored) throw notConfigured();
    c.header("ETag", `"${stored.version}"`);
    return c.json(ssoView(stored), 200);
  })
  .openapi(put, async (c) => {
    const { client_secret, ...config } = c.req.valid("json");
    const policy = ssoOutboundPolicy(c);
    const errors: FieldError[] = [];
    const issuerRefusal = urlRefusal(config.issuer, policy);
    if (issuerRefusal) errors.push({ path: "body.issuer", message: issuerRefusal });
    config.app_redirect_uris.forEach((uri, i) => {
      const why = urlRefusal(uri, policy);
      if (why) errors.push({ path: `body.app_redirect_uris.${i}`, message: why });
    });
    if (errors.length > 0) throw new AppError("validation_failed", { detail: errors[0]?.message, errors });
    const tenant = tenantOf(c);
    const sealed = client_secret === undefined ? null : await sealClientSecret(c, client_secret);
    const result = await directory(c.env, tenant.id).putSso({
      ctx: originOf(c),
      config,
      sealedSecret: sealed,
      expectedVersion: ifMatch(c),
    });
    if (!result.ok) {
      switch (result.error) {
        case "denied":
          throw refused(c, result.refusal);
        case "version_conflict":
          throw staleVersion("the provider", result.current_version);
        case "secret_required":
          throw new AppError("validation_failed", {
            detail: "client_secret is required the first time",
            errors: [{ path: "body.client_secret", message: "required when no secret is stored" }],
          });
        case "no_role":
          throw new AppError("validation_failed", {
            detail: "role_mapping or default_role names a role this tenant does not have",
            errors: [{ path: "body.role_mapping", message: "every role must exist" }],
          });
      }
    }
    forgetProvider(config.issuer);
    c.header("ETag", `"${result.value.version}"`);
    return c.json(ssoView(result.value), 200);
  })
  .openapi(remove, async (c) => {
    const result = await directory(c.env, tenantOf(c).id).deleteSso({ ctx: originOf(c) });
    if (!result.ok) throw notConfigured();
    return c.body(null, 204);
  });
