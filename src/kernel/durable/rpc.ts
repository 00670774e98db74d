import { SpanKind } from "@opentelemetry/api";
import type { z } from "zod";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";
import { inSpan, type TraceCarrier, traceCarrier } from "../telemetry";
import { reviveRemoteError } from "./remote-errors";

/**
 * A Durable Object's RPC surface, written once as schemas: for each method
 * the argument it takes and the reply it gives. The object implements it
 * ({@link RpcServer}: argument and reply types are inferred from the
 * schemas), parses each argument with it, and callers reach the object only
 * through {@link rpcClient}, which parses each reply with it. So a change on
 * either side that breaks the other fails at compile time, and a reply that
 * does not match fails loudly at the boundary instead of travelling on.
 *
 * @example
 * export const CounterRpc = defineRpc({
 *   add: { args: z.object({ by: z.number().int() }), reply: z.object({ value: z.number() }) },
 * });
 * export class Counter extends DurableObject<Env> implements RpcServer<typeof CounterRpc> { … }
 * const counter = rpcClient(CounterRpc, env.COUNTER.getByName(id), "Counter");
 * const { value } = await counter.add({ by: 1 });
 */
export type RpcContract = Readonly<Record<string, { args: z.ZodType; reply: z.ZodType }>>;

/** Declares a contract (an identity function that checks its shape). */
export const defineRpc = <C extends RpcContract>(contract: C): C => contract;

/** The argument type of a contract's method. */
export type RpcArgs<C extends RpcContract, K extends keyof C> = z.input<C[K]["args"]>;
/** The reply type of a contract's method. */
export type RpcReply<C extends RpcContract, K extends keyof C> = z.output<C[K]["reply"]>;
/**
 * A method's reply as the object sends it: what the client's parse takes. The
 * reply itself, unless the contract's reply schema is a codec for the wire
 * (e.g. jobs/contract.ts's JobSummaryJson: JSON text the client decodes).
 */
export type RpcReplySent<C extends RpcContract, K extends keyof C> = z.input<C[K]["reply"]>;

/** What a Durable Object class implements for its contract: each reply as the client's parse takes it. */
export type RpcServer<C extends RpcContract> = {
  [K in keyof C]: (args: RpcArgs<C, K>) => RpcReplySent<C, K> | Promise<RpcReplySent<C, K>>;
};

/**
 * The typed client of a contract: every reply parsed. A method whose argument may be left out
 * (`z.void()`, or a schema with a default for undefined) is called without one.
 */
export type RpcClient<C extends RpcContract> = {
  [K in keyof C]: undefined extends RpcArgs<C, K>
    ? (args?: RpcArgs<C, K>) => Promise<RpcReply<C, K>>
    : (args: RpcArgs<C, K>) => Promise<RpcReply<C, K>>;
};

/** A stub as the runtime gives it (`env.X.getByName(name)`), seen through the contract. */
export type RpcStub<C extends RpcContract> = {
  [K in keyof C]: (args: RpcArgs<C, K>, trace?: TraceCarrier) => Promise<unknown>;
};

/** Parses a method's argument inside the object: the caller is trusted, but a bug on its side must not corrupt storage. */
export function rpcArgs<C extends RpcContract, K extends keyof C & string>(
  contract: C,
  method: K,
  value: unknown,
): z.output<C[K]["args"]> {
  // zod types a parse through a generic schema as unknown; the value is what the schema returned.
  return specOf(contract, method).args.parse(value) as z.output<C[K]["args"]>;
}

function specOf<C extends RpcContract, K extends keyof C & string>(contract: C, method: K): C[K] {
  const spec = contract[method];
  if (spec === undefined) throw new Error(`no RPC method "${method}" in the contract`);
  return spec;
}

/**
 * A client over `stub` whose every reply is parsed with the contract. Each
 * call's duration, as the caller saw it, is recorded in
 * `plinth_do_rpc_duration_seconds` under `object` (the class name). An error the
 * object threw of a kind durable/remote-errors.ts lists reaches the caller as that
 * class again, not as the plain Error workerd hands over.
 */
export function rpcClient<C extends RpcContract>(contract: C, stub: RpcStub<C>, object: string): RpcClient<C> {
  const client: Partial<RpcClient<C>> = {};
  for (const method of Object.keys(contract)) {
    const call = async <K extends keyof C & string>(name: K, args: RpcArgs<C, K>): Promise<RpcReply<C, K>> => {
      const started = performance.now();
      let outcome = "error";
      try {
        const raw = await inSpan(
          `rpc ${object}.${name}`,
          { "rpc.system": "cloudflare_do", "rpc.service": object, "rpc.method": name },
          () => {
            const trace = traceCarrier();
            return trace ? stub[name](args, trace) : stub[name](args);
          },
          { kind: SpanKind.CLIENT },
        ).catch((error: unknown) => {
          // The object's typed errors come back as plain Errors: rebuilt, the caller tells them apart as if thrown here.
          throw reviveRemoteError(error);
        });
        const reply = specOf(contract, name).reply.parse(raw) as RpcReply<C, K>;
        outcome = "ok";
        return reply;
      } finally {
        isolateRecorder.observe(METRICS.doRpcDuration, [object, name, outcome], (performance.now() - started) / 1000);
      }
    };
    Object.assign(client, { [method]: (args: RpcArgs<C, typeof method>) => call(method, args) });
  }
  return client as RpcClient<C>;
}
