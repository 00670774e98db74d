import { z } from "@hono/zod-openapi";

/** Slugs that would collide with platform hosts when used as subdomains. */
export const RESERVED_SLUGS = new Set(["api", "app", "admin", "docs", "platform", "status", "www", "mail"]);

/** A tenant's slug: a DNS label of 3–63 characters, not reserved. */
export const SlugSchema = z
  .string()
  .min(3)
  .max(63)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "must be a DNS label: a-z, 0-9 and '-', not at either end")
  .refine((s) => !RESERVED_SLUGS.has(s), "is reserved")
  .openapi({ example: "acme" });

/** A tenant as the platform API returns it. */
export const TenantSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    plan: z.string(),
    /**
     * `suspended`: every request of the tenant is refused (`403 tenant_suspended`) until it is resumed.
     * `deleting`: an operator deleted it; its requests answer as for a tenant that never existed, and
     * the erasure job is erasing its data (then the tenant is gone: `404`).
     */
    status: z.enum(["active", "suspended", "deleting"]),
    created_at: z.string(),
    suspended_at: z.string().nullable(),
    /** The operator's reason, for the tenant's administrators (also in its audit log); never shown to its users. */
    suspended_reason: z.string().nullable(),
    /** 1 at creation, +1 per change; also the `ETag`, and what `If-Match` names. */
    version: z.number().int(),
    /** When the operator deleted it; null unless `deleting`. */
    deleted_at: z.string().nullable(),
    /** The erasure's steps done so far (`keys` first, then each module's, `aggregates`, `tables`); empty unless `deleting`. */
    erasure_done: z.array(z.string()),
    /**
     * When the erasure job last took it up (null until its first try, and unless `deleting`):
     * long past, or not moving, while it stays `deleting` is an erasure that no longer runs.
     */
    erasure_tried_at: z.string().nullable(),
    /** Tries of the erasure that failed since the delete, in a row (a try that ends erases the tenant); 0 unless one failed. */
    erasure_failures: z.number().int(),
    /** The step the last failed try stopped at (`keys`, `module:<name>`, `aggregates`, `tables`), or null. */
    erasure_failed_step: z.string().nullable(),
    /**
     * The last failed try's error as the job's log line names it, `Name: message`, a failed
     * query's bound values left out, at most 300 characters (the stack stays in the log); or null.
     */
    erasure_error: z.string().nullable(),
  })
  .openapi("Tenant");
export type TenantRecord = z.infer<typeof TenantSchema>;
