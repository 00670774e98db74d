import { z } from "@hono/zod-openapi";
import { ROLE_NAME_PATTERN } from "../directory/types";
import { DomainSchema } from "../signup";

const RoleName = z.string().regex(ROLE_NAME_PATTERN, "must be a role name");

/** One rule of the role mapping: a user whose ID token carries `claim` equal to (or, for a list, containing) `value` gets `role`. */
export const RoleMappingSchema = z
  .object({
    claim: z.string().min(1).max(100),
    value: z.string().min(1).max(200),
    role: RoleName,
  })
  .strict();

/**
 * A tenant's identity provider, as stored and shown, without its client
 * secret (docs/identity.md#single-sign-on).
 */
export const SsoSettingsSchema = z.object({
  /** The provider's issuer identifier; its `/.well-known/openid-configuration` is discovered from it. */
  issuer: z.string().min(1).max(2048),
  client_id: z.string().min(1).max(255),
  /** How plinth authenticates at the token endpoint. */
  token_endpoint_auth_method: z.enum(["client_secret_basic", "client_secret_post"]).default("client_secret_basic"),
  /** Only emails at these domains sign in (and only verified ones). */
  allowed_domains: z.array(DomainSchema).min(1).max(50),
  role_mapping: z.array(RoleMappingSchema).max(50).default([]),
  /** The role of a user provisioned just in time when no mapping rule matches. */
  default_role: RoleName.default("member"),
  /** Provision unknown users even when the signup policy would not let them register themselves. */
  jit: z.boolean().default(false),
  /** Where the callback may send the browser with the tokens in the fragment (exact match); none: the callback answers JSON. */
  app_redirect_uris: z.array(z.string().url().max(2048)).max(10).default([]),
});
export type SsoSettings = z.infer<typeof SsoSettingsSchema>;

/** What the directory holds: the settings, the sealed client secret, a version counting changes. */
export const SsoStoredSchema = z.object({
  config: SsoSettingsSchema,
  sealed_secret: z.string().min(1).max(4096),
  version: z.number().int().min(1),
  updated_at: z.string(),
});
export type SsoStored = z.infer<typeof SsoStoredSchema>;

/** The provider as `GET /admin/sso` shows it: the client secret is never returned. */
export const SsoViewSchema = SsoSettingsSchema.extend({
  client_secret_set: z.literal(true),
  version: z.number().int(),
  updated_at: z.string(),
}).openapi("SsoProvider");

/** The largest client secret taken, in UTF-8 bytes: sealed, it stays well inside the 4096 characters the directory keeps. */
export const SSO_SECRET_MAX_BYTES = 1024;
const utf8 = new TextEncoder();

/** The body of `PUT /admin/sso`: the client secret may be left out to keep the stored one. */
export const SsoPutSchema = SsoSettingsSchema.extend({
  // Bytes, not characters: the sealed size follows the bytes, and 1024 three-byte characters
  // sealed past what the directory's contract takes (a 500 instead of this 400).
  client_secret: z
    .string()
    .min(1)
    .max(SSO_SECRET_MAX_BYTES)
    .refine((s) => utf8.encode(s).byteLength <= SSO_SECRET_MAX_BYTES, `at most ${SSO_SECRET_MAX_BYTES} bytes as UTF-8`)
    .optional()
    .openapi({ description: `at most ${SSO_SECRET_MAX_BYTES} bytes as UTF-8` }),
})
  .strict()
  .openapi("SsoProviderInput");

export const ssoView = (stored: SsoStored): z.infer<typeof SsoViewSchema> => ({
  ...stored.config,
  client_secret_set: true,
  version: stored.version,
  updated_at: stored.updated_at,
});
