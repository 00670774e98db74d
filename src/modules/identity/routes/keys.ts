import { z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../../../generated/permissions";
import { principalOf, tenantOf } from "../../../kernel/auth/guards";
import { MAX_PERMISSION_LENGTH } from "../../../kernel/auth/permissions";
import { isoNow } from "../../../kernel/clock";
import { newId } from "../../../kernel/crypto";
import { AppError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import {
  DisplayName,
  IdPageQuery,
  IdParam,
  jsonBody,
  jsonResponse,
  LOCATION_HEADER,
  listOf,
} from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { forgetRevokedKeys } from "../authenticators";
import { directory } from "../directory/contract";
import { keyIndex } from "../key-index";
import { authorize, boundedExpiry, callerOf } from "../policy";
import { declaredPermissions, refused, writeRefused } from "../refusals";
import { KeySchema, keyPath } from "../schemas";
import { newApiKey } from "../services";
import { flagKey } from "../undeclared";

const op = operations(["api keys"]);

const CreatedKeySchema = KeySchema.extend({ key: z.string() }).openapi("CreatedApiKey");

const create = op.post("/admin/api-keys", {
  operationId: "createApiKey",
  summary: "Create an API key (its secret is shown once)",
  access: PERMISSIONS.admin.keys.write,
  request: {
    body: jsonBody(
      z.object({
        name: DisplayName,
        scopes: z.array(z.string().max(MAX_PERMISSION_LENGTH)).min(1).max(100),
        expires_at: z.iso.datetime({ offset: true }).optional(),
      }),
    ),
  },
  responses: {
    201: jsonResponse("the key, with its secret", CreatedKeySchema, LOCATION_HEADER),
    400: problem("invalid fields or unknown permissions"),
    403: problem("a scope the caller does not hold, or an expiry past the creating key's"),
  },
});

const list = op.get("/admin/api-keys", {
  operationId: "listApiKeys",
  summary: "List live API keys (without secrets), oldest first",
  access: PERMISSIONS.admin.keys.read,
  request: { query: IdPageQuery },
  responses: { 200: jsonResponse("a page of keys", listOf(KeySchema)) },
});

const get = op.get("/admin/api-keys/{id}", {
  operationId: "getApiKey",
  summary: "One live API key (without its secret)",
  access: PERMISSIONS.admin.keys.read,
  request: { params: IdParam },
  responses: {
    200: jsonResponse("the key, as the list shows it", KeySchema),
    404: problem("no such live key in this tenant"),
  },
});

const revoke = op.delete("/admin/api-keys/{id}", {
  operationId: "revokeApiKey",
  summary: "Revoke an API key",
  access: PERMISSIONS.admin.keys.write,
  request: { params: IdParam },
  responses: {
    204: { description: "revoked, with every key it created" },
    403: problem("the key holds a scope the caller does not"),
    404: problem("no such live key in this tenant"),
    409: problem("the calling key was created by this key and would be revoked with it (revokes_own_key)"),
  },
});

/** `/api/v1/admin/api-keys`. */
export const keyRoutes = createRouter()
  .openapi(create, async (c) => {
    const principal = principalOf(c, "user", "api_key");
    const tenant = tenantOf(c);
    const body = c.req.valid("json");
    const scopes = declaredPermissions(c, body.scopes, "scopes", true);
    const now = isoNow(c.get("clock"));
    const requested = body.expires_at ? new Date(body.expires_at).toISOString() : null;
    // An offset can carry "9999-12-31T23:59:59-23:59" into the year 10000, spelt "+010000-…":
    // no ISO date-time the directory keeps, and it sorted as "in the past" below.
    if (requested?.startsWith("+")) {
      throw new AppError("validation_failed", {
        detail: "expires_at is after the year 9999",
        errors: [{ path: "body.expires_at", message: "must be no later than 9999-12-31T23:59:59.999Z" }],
      });
    }
    if (requested !== null && requested <= now) {
      throw new AppError("validation_failed", {
        detail: "expires_at is in the past",
        errors: [{ path: "body.expires_at", message: "must be in the future" }],
      });
    }
    // Refused early on the request's principal; the directory decides again on its current state.
    const caller = callerOf(principal);
    const expiresAt = boundedExpiry(caller, requested);
    const refusal = authorize(caller, { type: "key.create", scopes, expiresAt });
    if (refusal) throw refused(c, refusal);
    const secret = await newApiKey(c.get("config").environment);
    // Index first: an index row without a directory key is simply an unknown key.
    const index = keyIndex(c.env.DB);
    await index.add(secret.hash, tenant.id, now);
    const result = await directory(c.env, tenant.id).createKey({
      ctx: originOf(c),
      key: { id: newId(), name: body.name, prefix: secret.prefix, hash: secret.hash, scopes, expiresAt },
    });
    if (!result.ok) {
      await index.remove([secret.hash]);
      throw refused(c, result.refusal);
    }
    c.header("Cache-Control", "no-store");
    c.header("Location", keyPath(result.value.id));
    return c.json({ ...result.value, key: secret.key }, 201);
  })
  .openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page = await directory(c.env, tenantOf(c).id).listKeys({
      limit,
      cursor: cursor ?? null,
      now: isoNow(c.get("clock")),
    });
    const declared = new Set(c.get("platform").permissions);
    return c.json({ items: page.items.map((k) => flagKey(declared, k)), next_cursor: page.next }, 200);
  })
  .openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    // The directory of the credential's tenant: another tenant's key id is simply unknown there.
    const key = await directory(c.env, tenantOf(c).id).getKey({ id, now: isoNow(c.get("clock")) });
    if (!key) throw new AppError("not_found", { detail: "no such live API key (unknown, revoked or expired)" });
    return c.json(flagKey(new Set(c.get("platform").permissions), key), 200);
  })
  .openapi(revoke, async (c) => {
    const { id } = c.req.valid("param");
    const result = await directory(c.env, tenantOf(c).id).revokeKey({ ctx: originOf(c), id });
    if (!result.ok) {
      throw writeRefused(c, id, result, {
        revokesCaller:
          "this key was created (directly or through keys it created) by the key it would revoke, and would be revoked with it: revoke it with a credential the key did not create (an owner's session, or a key from `plinth tenants recover-key`)",
        notFound: "no such live API key (unknown, revoked or expired)",
      });
    }
    await forgetRevokedKeys(c.env.DB, result.value);
    return c.body(null, 204);
  });
