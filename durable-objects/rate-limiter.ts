import { DurableObject } from "cloudflare:workers";
import { type RpcArgs, type RpcReply, type RpcServer, rpcArgs } from "../src/kernel/durable/rpc";
import { PingRpc, PONG } from "../src/kernel/health/contract";
import { RateLimiterRpc } from "../src/kernel/ratelimit/contract";
import { gcra, spent } from "../src/kernel/ratelimit/gcra";

type Rpc = typeof RateLimiterRpc;
const TAT = "tat";

/**
 * One per limited key (`<policy>:<key>`): the single writer of that key's
 * GCRA state, so concurrent requests from every isolate are decided one at a
 * time and the admitted count never exceeds the policy. The state is one
 * number, kept in memory and in the object's storage (so eviction forgets
 * nothing); the storage write of each admitted request commits before the
 * reply leaves.
 */
export class RateLimiter extends DurableObject<Env> implements RpcServer<Rpc>, RpcServer<typeof PingRpc> {
  /** Readiness (kernel/health/contract.ts): answers without reading or writing data. */
  ping(input: RpcArgs<typeof PingRpc, "ping">): RpcReply<typeof PingRpc, "ping"> {
    rpcArgs(PingRpc, "ping", input);
    return PONG;
  }

  private tat: number | null = null;

  check(input: RpcArgs<Rpc, "check">): RpcReply<Rpc, "check"> {
    const { rate, now, cost } = rpcArgs(RateLimiterRpc, "check", input);
    this.tat ??= this.ctx.storage.kv.get<number>(TAT) ?? 0;
    const verdict = gcra(rate, this.tat, now, cost);
    if (verdict.allowed) {
      this.tat = verdict.tat;
      this.ctx.storage.kv.put(TAT, verdict.tat);
    }
    return verdict;
  }

  record(input: RpcArgs<Rpc, "record">): RpcReply<Rpc, "record"> {
    const { rate, now, count } = rpcArgs(RateLimiterRpc, "record", input);
    this.tat = spent(rate, this.tat ?? this.ctx.storage.kv.get<number>(TAT) ?? 0, now, count);
    this.ctx.storage.kv.put(TAT, this.tat);
    return { ...gcra(rate, this.tat, now), tat: this.tat };
  }
}
