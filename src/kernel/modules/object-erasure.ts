import { KERNEL_BINDINGS } from "../config";
import type { ModuleDef } from "./types";

/**
 * A module binding a Durable Object of its own declares how a deleted tenant's objects are
 * emptied (`erasure.erase`, or `shred`, calling each object's `eraseAll`): without one nothing ever does, and
 * a deleted tenant's rows and timers stay for good (the kernel's erasure deletes only the
 * declared tables' rows). An object that holds no tenant's data (one for the whole platform) is
 * named in `tenant_free_objects` with why instead, so the choice is written down and reviewed.
 * The kernel's own bindings are the kernel's to erase; a binding another module declares too is
 * met by that module's erasure.
 */
export function objectErasureProblems(defs: readonly ModuleDef[]): { module: string; problem: string }[] {
  const problems: { module: string; problem: string }[] = [];
  // `shred` counts: identity empties its directory there, the key seed with it.
  const erases = (def: ModuleDef) => Boolean(def.erasure?.erase || def.erasure?.shred);
  // A binding two modules declare is one object: either one's erasure empties it.
  const erased = new Set(defs.filter(erases).flatMap((def) => Object.keys(def.bindings ?? {})));
  for (const def of defs) {
    const objects = Object.entries(def.bindings ?? {})
      .filter(([name, kind]) => kind === "durable_object" && !Object.hasOwn(KERNEL_BINDINGS, name))
      .map(([name]) => name);
    const exempt = def.tenant_free_objects ?? {};
    for (const [name, why] of Object.entries(exempt)) {
      if (!objects.includes(name)) {
        problems.push({
          module: def.name,
          problem: `tenant_free_objects names ${name}, which is not a Durable Object binding it declares`,
        });
      } else if (why.trim() === "") {
        problems.push({
          module: def.name,
          problem: `tenant_free_objects.${name} must say why it holds no tenant's data`,
        });
      }
    }
    const unerased = objects.filter((name) => !Object.hasOwn(exempt, name) && !erased.has(name));
    if (unerased.length === 0) continue;
    problems.push({
      module: def.name,
      problem: `binds the Durable Object ${unerased.join(", ")} but declares no erasure, so a deleted tenant's objects would keep their rows and timers for good: add erasure: { erase: async (tenantId, rt) => … eraseAll({ tenant_id: tenantId }) … } (docs/actors.md, step 6), or, for an object that holds no tenant's data, tenant_free_objects: { ${unerased[0]}: "<why>" }`,
    });
  }
  return problems;
}
