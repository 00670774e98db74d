/// <reference types="vite/client" />
import type { Sweep } from "./sweep";
import type { Fixtures } from "./valid";

/**
 * What a product module adds to the sweep, in `test/node/proxy/modules/<name>.ts`
 * (`plinth new module` writes one): a valid request for each of its
 * operations, and a body the document calls valid for each that takes one
 * (the error requests derived from the document send it).
 *
 * @example
 * export const sweep: ModuleSweep = {
 *   samples: { "POST /api/v1/orders/orders": { name: "Sample" } },
 *   async valid(s, fx) { await s.need({ op: "POST /api/v1/orders/orders", … }); },
 * };
 */
export interface ModuleSweep {
  samples: Readonly<Record<string, unknown>>;
  valid(s: Sweep, fx: Fixtures): Promise<void>;
}

const found = import.meta.glob<{ sweep: ModuleSweep }>("./modules/*.ts", { eager: true });

/** Every module's sweep, in file-name order. */
export const moduleSweeps: ModuleSweep[] = Object.keys(found)
  .sort()
  .flatMap((file) => found[file]?.sweep ?? []);
