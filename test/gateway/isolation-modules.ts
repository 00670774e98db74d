/// <reference types="vite/client" />
// What a product module adds to the tenant-isolation walk (tenant-isolation.test.ts), in
// `test/gateway/isolation/<name>.ts` (`plinth new module` writes one): one resource of each kind its
// paths name, made in each of the walk's two tenants. Without it the walk cannot fill the module's
// path parameters and fails naming them, so the module's first `npm test` failed as generated.

/** One of the walk's tenants, as a module's seed gets it. */
export interface IsolationTenant {
  /** The tenant's first admin key: every permission. */
  adminKey: string;
  /**
   * This tenant's own marker: put it in every name your resource carries, so that an answer to the
   * other tenant showing it is caught as a leak.
   */
  mark: string;
}

/**
 * A module's part of the walk: makes its resources in `t` and answers their ids, each keyed by the
 * collection path its `{id}` follows (`"/api/v1/orders"` for `/api/v1/orders/{id}`).
 *
 * @example
 * export const seed: ModuleIsolationSeed = async (t) => {
 *   const made = await call("/api/v1/orders", { token: t.adminKey, body: { name: `Order ${t.mark}` } });
 *   return { "/api/v1/orders": String(made.body.id) };
 * };
 */
export type ModuleIsolationSeed = (t: IsolationTenant) => Promise<Record<string, string>>;

/** What a module's file in `test/gateway/isolation/` exports. */
export interface ModuleIsolation {
  seed: ModuleIsolationSeed;
  /**
   * Its operations B's own request on B's own resource cannot succeed for, each with why: the walk
   * drives every operation in document order on the one resource of each tenant, so a rule of
   * state refuses some (an invoice paid by `payInvoice` cannot then be voided: 409). The walk
   * still aims them at A; only the check that they were driven is waived, as for the kernel's.
   */
  cannotDrive?: Readonly<Record<string, string>>;
}

const found = import.meta.glob<ModuleIsolation>("./isolation/*.ts", { eager: true });

/** Every module's seed, in file-name order. */
export const moduleSeeds: ModuleIsolationSeed[] = Object.keys(found)
  .sort()
  .flatMap((file) => found[file]?.seed ?? []);

/** The modules' `cannotDrive` entries, merged; an entry without a reason, or named twice, is refused. */
export function cannotDriveOf(files: Readonly<Record<string, Partial<ModuleIsolation>>>): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const file of Object.keys(files).sort()) {
    for (const [operationId, why] of Object.entries(files[file]?.cannotDrive ?? {})) {
      if (why.trim() === "") throw new Error(`${file}: cannotDrive.${operationId} needs its reason`);
      if (operationId in merged) throw new Error(`${file}: cannotDrive.${operationId} is named twice`);
      merged[operationId] = why;
    }
  }
  return merged;
}

/** Every module's operations the walk cannot drive on B's own resource, with why. */
export const moduleCannotDrive = cannotDriveOf(found);

/**
 * The walk's `ids` key of a collection path: its last two segments (`v1/orders`,
 * `shop/orders`), the most specific key a path parameter is looked up by
 * (isolation-requests.ts, `collectionKeys`), so a module's `orders` never takes the place of
 * another's.
 */
export function collectionKey(path: string): string {
  const segments = path.replace(/\/+$/, "").split("/");
  if (segments.length < 3 || !path.startsWith("/"))
    throw new Error(`an isolation seed's key must be a collection path such as /api/v1/orders, not "${path}"`);
  return segments.slice(-2).join("/");
}

/** Every module's resources in `t`, keyed as the walk looks them up. */
export async function seededByModules(t: IsolationTenant, seeds = moduleSeeds): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const seed of seeds) {
    for (const [path, id] of Object.entries(await seed(t))) ids[collectionKey(path)] = id;
  }
  return ids;
}
