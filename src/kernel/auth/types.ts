import type { Context } from "hono";
import type { AppEnv } from "../env";

/** Who is calling. `grants` are permission patterns (see permissions.ts). */
export type Principal =
  | { kind: "platform"; id: "platform"; grants: [] }
  | {
      kind: "user";
      id: string;
      tenantId: string;
      roles: string[];
      grants: string[];
      /** The session (refresh-token family) the access token belongs to. */
      sessionId?: string;
    }
  | {
      kind: "api_key";
      id: string;
      tenantId: string;
      name: string;
      prefix: string;
      scopes: string[];
      grants: string[];
      /** When the key stops working (null: never); a key it creates may not outlive it. */
      expiresAt: string | null;
    };

/** A tenant as the request path knows it. */
export interface Tenant {
  id: string;
  slug: string;
  name: string;
  plan: string;
  /**
   * A suspended tenant's requests are refused (`403 tenant_suspended`); a deleting one's answer
   * `404 tenant_not_found`, as if it never existed. Only platform routes reach either.
   */
  status: "active" | "suspended" | "deleting";
  created_at: string;
}

/** A tenant that is not deleted: what a job or an actor reads with `findTenant` (kernel/auth/tenant-registry.ts). */
export type LiveTenant = Tenant & { status: "active" | "suspended" };

/**
 * Verifies one kind of bearer credential. A module provides it (identity
 * provides API keys and JWTs); the kernel asks each in turn.
 */
export interface Authenticator {
  /** Whether the token has this authenticator's shape (e.g. a `plk_` prefix). */
  accepts(token: string): boolean;
  /** The principal, or null for an unknown, expired, revoked or malformed credential. */
  authenticate(token: string, c: Context<AppEnv>): Promise<Principal | null>;
}

/** What the gateway needs of a tenant's settings: its browser origins and its own rate limits. */
export interface TenantGateway {
  /** Origins (`https://app.example.com`) whose pages may call the API (CORS). */
  corsOrigins: readonly string[];
  /** The tenant's own limits for policies that allow one, by policy name. */
  rateLimits: Readonly<Record<string, { limit: number; period_s: number }>>;
}

/** Reads a tenant's gateway settings; provided by the module that owns tenant settings. */
export interface TenantSettingsLookup {
  get(tenantId: string, c: Context<AppEnv>): Promise<TenantGateway>;
}

/**
 * Names the tenant a request's URL itself proves, with no credential and no tenant host: a
 * signed download URL, whose signature covers its tenant. A CORS preflight carries the URL
 * but no credential, so on a host that names no tenant this is the only tenant it has
 * (kernel/http/cors.ts). Undefined when the URL is not one of the module's, or does not
 * verify (or has expired): the preflight then gets no CORS, as the request itself would.
 */
export type UrlTenantProof = (c: Context<AppEnv>) => Promise<string | undefined>;

/**
 * Which live tenants a walk over the registry takes: all of them (active and suspended, the
 * default), or with `only: "active"` the active ones, the suspended left out by the registry's
 * own query. Deleted tenants (being erased, or erased) are never walked.
 */
export interface TenantFilter {
  only?: "active";
}

/** Finds tenants, active or suspended; provided by the module that owns the tenant registry. */
export interface TenantLookup {
  bySlug(slug: string, c: Context<AppEnv>): Promise<Tenant | null>;
  byId(id: string, c: Context<AppEnv>): Promise<Tenant | null>;
  /**
   * The registry's tenant ids (suspended ones too, unless `filter` says `only: "active"`) in id
   * order, after `after`, at most `limit`: what an operation over every tenant walks (a read
   * model's rebuild, kernel/events/rebuild-state.ts; re-sealing, kernel/crypto/routes.ts; a
   * job, kernel/jobs/each-tenant.ts). Takes the env, not a request, since it answers for no
   * tenant of its own; uncached, so a walk sees them all.
   */
  ids(env: Env, after: string | undefined, limit: number, filter?: TenantFilter): Promise<string[]>;
  /**
   * The tenant of id `id`, active or suspended, read now (uncached: a job deciding whether to
   * mail or bill it sees a suspension at once); null when no tenant has that id or it is
   * deleted (being erased, or erased). Takes the env, not a request, for the callers that have
   * none: jobs and Durable Objects.
   */
  find(env: Env, id: string): Promise<LiveTenant | null>;
  /**
   * Of `ids`, the tenants that are deleted (being erased, or erased). The queue consumer drops
   * their events, so a delivery that outlives an erasure (a queue retry) cannot write back
   * the read-model rows or audit entries it removed. May answer from a cache no staler than
   * the erasure's grace allows.
   */
  gone(env: Env, ids: readonly string[]): Promise<ReadonlySet<string>>;
  /**
   * Takes the tenant for gone from now on, in this isolate: one of its objects refused the
   * consumer as erased, which no cached "not deleted" may outlive (kernel/events/queue.ts).
   */
  erasedSeen?(id: string): void;
  /**
   * Whether the tenant's erasure is past its objects (its aggregates erased, or all of it
   * done): its read-model rows may then be deleted at once, since no step left needs them.
   */
  pastObjects?(env: Env, id: string): Promise<boolean>;
  /** When the tenant's erasure finished (its tombstone), or null: the proof an operator's 404 names. */
  erasedAt?(env: Env, id: string): Promise<string | null>;
}

/**
 * A live member of a tenant as another module may know them: what a product module needs to
 * check that a user it is handed (an assignee, a reviewer) belongs to the tenant, and to mail
 * them. `findMember` (kernel/auth/member-directory.ts) reads it.
 */
export interface Member {
  id: string;
  /** Their display name. */
  name: string;
  /**
   * Their address, to mail them through the notifier. Personal data: never log it, and never
   * put it in an event unsealed (an event outlives the account; name the user by `id`).
   */
  email: string;
  /**
   * Whether they proved the address reaches them. Anyone may register with an address they do
   * not own: mail that discloses the tenant's business goes to a verified one only.
   */
  email_verified: boolean;
  /** `suspended`: an administrator blocked the account; it signs in nowhere, and is not assigned work. */
  status: "active" | "suspended";
  /** Their roles in the tenant now, by name. */
  roles: readonly string[];
}

/** Finds a tenant's members; provided by the module that keeps the tenant's directory. */
export interface MemberLookup {
  /**
   * The member `userId` of tenant `tenantId`, read now from the tenant's directory (no cache: a
   * suspension shows at once); null when the tenant has no such user (never had, or deleted,
   * or another tenant's). Takes the env, not a request, for the callers that have none.
   */
  find(env: Env, tenantId: string, userId: string): Promise<Member | null>;
  /**
   * Up to `max` members of tenant `tenantId` holding any of `roles`, in id order, read now
   * (suspended ones included, marked so); none for a tenant it does not know.
   */
  withRole(env: Env, tenantId: string, roles: readonly string[], max: number): Promise<Member[]>;
}
