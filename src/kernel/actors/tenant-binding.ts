/**
 * The tenant an actor named by a tenant id serves (a runtime object does not
 * reliably know its own name): kept under one storage key by the first call
 * that names it, checked on every later one, and memoised. The Actor base
 * (actor.ts) owns one and offers it as bindTenant/boundTenant.
 */

/** Kept under the key the first per-tenant actors used, so their stored binding still reads. */
const TENANT_KEY = "tenant_id";

/** One actor's tenant binding: see the file's header. */
export class TenantBinding {
  /** {@link bound}'s memo. */
  private tenant: string | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly name: string,
  ) {}

  /** Binds `tenantId` on the first call; throws when a later one names another tenant. */
  bind(tenantId: string): string {
    const known = this.bound();
    if (known === null) {
      this.storage.kv.put(TENANT_KEY, tenantId);
      this.tenant = tenantId;
      return tenantId;
    }
    if (known !== tenantId) throw new Error(`${this.name} addressed with another tenant's id`);
    return known;
  }

  /** The bound tenant, or null before the first call named it. */
  bound(): string | null {
    this.tenant ??= this.storage.kv.get<string>(TENANT_KEY) ?? null;
    return this.tenant;
  }

  /** Forgets the memo (the storage was wiped). */
  forget(): void {
    this.tenant = null;
  }
}
