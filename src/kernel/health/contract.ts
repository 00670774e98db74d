import { z } from "zod";
import { defineRpc, rpcClient } from "../durable/rpc";

/**
 * The readiness contract every Durable Object class of plinth implements
 * besides its real one: `ping` answers from the object without reading or
 * writing data. `/readyz` calls it on an object named `readyz` of each
 * namespace, which proves the binding, the class and the runtime's routing to
 * it (a class that creates its SQLite schema on start creates it there once;
 * no rows are written). The objects modules bind are pinged the same way,
 * derived from their `bindings` (module-objects.ts): a module writes no check for them.
 */
export const PingRpc = defineRpc({
  ping: { args: z.object({}), reply: z.object({ ok: z.literal(true) }) },
});

/** What a class answers to `ping`. */
export const PONG = { ok: true } as const;

/** The kernel's Durable Object namespaces, each with the ping of its `readyz` object. */
export const KERNEL_OBJECTS: readonly { name: string; ping: (env: Env) => Promise<unknown> }[] = [
  { name: "Aggregate", ping: (env) => rpcClient(PingRpc, env.AGGREGATE.getByName("readyz"), "Aggregate").ping({}) },
  {
    name: "RateLimiter",
    ping: (env) => rpcClient(PingRpc, env.RATE_LIMITER.getByName("readyz"), "RateLimiter").ping({}),
  },
  {
    name: "IdempotencyStore",
    ping: (env) => rpcClient(PingRpc, env.IDEMPOTENCY.getByName("readyz"), "IdempotencyStore").ping({}),
  },
  {
    name: "MetricsAggregator",
    ping: (env) => rpcClient(PingRpc, env.METRICS.getByName("readyz"), "MetricsAggregator").ping({}),
  },
  { name: "JobRunner", ping: (env) => rpcClient(PingRpc, env.JOB_RUNNER.getByName("readyz"), "JobRunner").ping({}) },
];

/** What the runtime gives for a Durable Object binding, as far as a ping needs it. */
interface Namespace {
  getByName(name: string): unknown;
}

function isNamespace(value: unknown): value is Namespace {
  return typeof value === "object" && value !== null && typeof Reflect.get(value, "getByName") === "function";
}

/**
 * The `readyz` object of the namespace a module binds as `binding` (known by name only, so
 * not through `Env`'s types), or null when the env holds no namespace there. Its contract is
 * unknown here: the caller checks it answers `ping` (module-objects.ts).
 */
export function readyzObjectOf(env: Env, binding: string): unknown {
  const namespace: unknown = Reflect.get(env, binding);
  return isNamespace(namespace) ? namespace.getByName("readyz") : null;
}
