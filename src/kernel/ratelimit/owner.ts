import { isKernelPolicy, type PolicyName } from "./policies";

/** A route charged a policy another module declares: a programming error, answered 500. */
export class ForeignPolicyError extends Error {
  constructor(name: string, routeModule: string) {
    super(
      `rate-limit policy "${name}" is not module "${routeModule}"'s: a module charges the kernel's policies and its own (ModuleDef.rate_limits), never another module's`,
    );
    this.name = "ForeignPolicyError";
  }
}

/**
 * Whether a route of `routeModule` may charge policy `name`: any route may charge the kernel's,
 * and a module's (`<module>.<name>`) only its own module's routes, so one module cannot spend
 * (or `restore`) another's budget. `routeModule` is the request's `module`, which `observe` sets
 * from the matched route before any handler runs; unset, or `kernel` (the kernel's routes, and
 * any route the route map does not know), nothing is known and nothing is refused.
 */
export function mayCharge(routeModule: string | undefined, name: PolicyName): boolean {
  if (isKernelPolicy(name) || routeModule === undefined || routeModule === "kernel") return true;
  return name.slice(0, name.indexOf(".")) === routeModule;
}

/** Throws {@link ForeignPolicyError} where {@link mayCharge} says no. */
export function assertMayCharge(routeModule: string | undefined, name: PolicyName): void {
  if (!mayCharge(routeModule, name)) throw new ForeignPolicyError(name, routeModule ?? "kernel");
}
