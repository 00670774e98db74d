import { z } from "zod";

// Argument schemas of the TenantDirectory's RPC methods, written once: the
// methods parse with them and take their input types from them. The Worker is
// trusted, but a bug on its side must not corrupt a tenant's directory.

export const Id = z.string().min(1).max(64);
export const Hash = z.string().regex(/^[0-9a-f]{64}$/);
export const Iso = z.iso.datetime();
export const CtxSchema = z.object({
  now: Iso,
  actor: z.object({
    kind: z.enum(["user", "api_key", "platform", "system", "anonymous"]),
    id: z.string().max(64).nullable(),
  }),
  requestId: z.string().max(128).nullable(),
  ipHash: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .nullish(),
});
export const Email = z.string().min(3).max(320);
export const Limit = z.number().int().min(1).max(100);
export const Cursor = z.string().max(64).nullable();
export const Scopes = z.array(z.string().min(1).max(128)).max(200);
export const RoleName = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/);
export const RoleSchema = z.object({
  name: RoleName,
  permissions: z.array(z.string().min(1).max(128)).max(500),
  description: z.string().max(500),
});
const PasswordHash = z.string().max(512);
const Page = z.object({ limit: Limit, cursor: Cursor });

/** One schema per RPC method that takes an object. */
export const Args = {
  init: z.object({
    ctx: CtxSchema,
    tenant: z.object({ id: Id, slug: z.string().max(63), name: z.string().max(200), plan: z.string().max(64) }),
    adminKey: z.object({ id: Id, name: z.string().max(200), prefix: z.string().max(64), hash: Hash }),
  }),
  register: z.object({
    ctx: CtxSchema,
    user: z.object({ id: Id, email: Email, name: z.string().min(1).max(200), passwordHash: PasswordHash }),
    verification: z.object({ hash: Hash, expiresAt: Iso }),
  }),
  loginSucceeded: z.object({
    ctx: CtxSchema,
    userId: Id,
    familyId: Id,
    tokenHash: Hash,
    rehash: PasswordHash.nullable(),
  }),
  loginFailed: z.object({ ctx: CtxSchema, reason: z.enum(["unknown_email", "bad_password", "email_not_verified"]) }),
  refresh: z.object({ ctx: CtxSchema, presentedHash: Hash, nextHash: Hash }),
  presented: z.object({ ctx: CtxSchema, presentedHash: Hash }),
  token: z.object({ ctx: CtxSchema, tokenHash: Hash }),
  requestPasswordReset: z.object({ ctx: CtxSchema, email: Email, tokenHash: Hash, expiresAt: Iso }),
  confirmPasswordReset: z.object({ ctx: CtxSchema, tokenHash: Hash, passwordHash: PasswordHash }),
  changePassword: z.object({ ctx: CtxSchema, userId: Id, passwordHash: PasswordHash, keepFamily: Id.nullable() }),
  page: Page,
  updateUser: z.object({
    ctx: CtxSchema,
    id: Id,
    patch: z.object({ name: z.string().min(1).max(200).optional() }),
  }),
  byId: z.object({ ctx: CtxSchema, id: Id }),
  createKey: z.object({
    ctx: CtxSchema,
    key: z.object({
      id: Id,
      name: z.string().min(1).max(200),
      prefix: z.string().max(64),
      hash: Hash,
      scopes: Scopes,
      expiresAt: Iso.nullable(),
    }),
  }),
  verifyKey: z.object({ hash: Hash, now: Iso }),
  touchKey: z.object({ id: Id, now: Iso }),
  role: z.object({ ctx: CtxSchema, role: RoleSchema }),
  roleName: z.object({ ctx: CtxSchema, name: RoleName }),
  bindRole: z.object({ ctx: CtxSchema, userId: Id, role: RoleName, grant: z.boolean() }),
  keySeed: z.object({ create: z.boolean(), now: Iso }),
  ctxOnly: z.object({ ctx: CtxSchema }),
  updateSettings: z.object({ ctx: CtxSchema, require_verified_email: z.boolean().optional() }),
};

/** The input type of an RPC method, from its schema. */
export type In<K extends keyof typeof Args> = z.input<(typeof Args)[K]>;

/** Validates an RPC argument. */
export const parse = <T>(schema: z.ZodType<T>, value: unknown): T => schema.parse(value);
