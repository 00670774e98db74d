import { type RpcStub, rpcClient } from "../durable/rpc";
import type { ModuleDef } from "../modules/types";
import { CheckFailed, type HealthCheck, objectCheck } from "./checks";
import { KERNEL_OBJECTS, PingRpc, readyzObjectOf } from "./contract";

/** A workerd stub answers every method name; only a stand-in can lack `ping` outright. */
function hasPing(stub: unknown): stub is RpcStub<typeof PingRpc> {
  return typeof stub === "object" && stub !== null && typeof Reflect.get(stub, "ping") === "function";
}

/** An object whose class has no `ping`: workerd rejects the call with `The RPC receiver does not implement "ping".` */
function lacksPing(error: unknown): boolean {
  return error instanceof TypeError && error.message.includes("does not implement");
}

/**
 * The ping of one module's Durable Object binding, reported as `do:<class>` (the class
 * wrangler.toml names, from `classes`; the binding's name when the generated map does not
 * know it yet). A class that does not answer `ping` fails with the fix, not a bare error.
 */
function bindingCheck(module: string, binding: string, classes: Readonly<Record<string, string>>): HealthCheck {
  const className = classes[binding] ?? binding;
  return objectCheck(className, async (env) => {
    const stub = readyzObjectOf(env, binding);
    if (stub === null) {
      throw new CheckFailed(`the ${binding} binding the ${module} module declares is not a Durable Object namespace`);
    }
    if (!hasPing(stub)) throw new CheckFailed(noPing(className, binding, module));
    try {
      return await rpcClient(PingRpc, stub, className).ping({});
    } catch (error) {
      if (lacksPing(error)) throw new CheckFailed(noPing(className, binding, module));
      throw error;
    }
  });
}

function noPing(className: string, binding: string, module: string): string {
  return `${className} (${binding}, declared by the ${module} module) does not answer ping: add PingRpc to its contract in src/index.ts (traced.object(…, PingRpc)) and implement ping (an actor does)`;
}

/**
 * A readiness check for every Durable Object binding the modules declare, so an object a
 * module adds is in `/readyz` without a check of its own (docs/modules.md, "Durable Objects
 * of your own"). Each binding once: two modules sharing one, or a module binding an object
 * the kernel pings already (its check stays), would ping it twice under one name.
 */
export function moduleObjectChecks(
  modules: readonly Pick<ModuleDef, "name" | "bindings">[],
  classes: Readonly<Record<string, string>>,
): HealthCheck[] {
  const kernel = new Set(KERNEL_OBJECTS.map((o) => o.name));
  const declarer = new Map<string, string>(); // binding → the first module declaring it, named in failures
  for (const m of modules) {
    for (const [binding, kind] of Object.entries(m.bindings ?? {})) {
      if (kind === "durable_object" && !declarer.has(binding) && !kernel.has(classes[binding] ?? binding)) {
        declarer.set(binding, m.name);
      }
    }
  }
  return [...declarer].map(([binding, module]) => bindingCheck(module, binding, classes));
}
