import { z } from "zod";

// Argument schemas of the TenantDirectory's RPC methods: the Worker is
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

/** Validates an RPC argument. */
export const parse = <T>(schema: z.ZodType<T>, value: unknown): T => schema.parse(value);
