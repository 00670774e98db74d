import { DurableObject } from "cloudflare:workers";
import type { Clock } from "../src/kernel/clock";
import { type RpcArgs, type RpcReply, type RpcServer, rpcArgs } from "../src/kernel/durable/rpc";
import { PingRpc, PONG } from "../src/kernel/health/contract";
import { RateLimiterRpc } from "../src/kernel/ratelimit/contract";
import { gcra, type Rate, refunded, rerated, restored, sameRate, spent, standing } from "../src/kernel/ratelimit/gcra";

type Rpc = typeof RateLimiterRpc;
const TAT = "tat";
/** The rate the stored TAT was counted at: a changed setting re-counts it ({@link rerated}). */
const RATE = "rate";

/**
 * How long after its TAT a key's storage is deleted (ms). Once the TAT is in the past the
 * key is as if never seen (`gcra` takes `max(tat, now)`), so deleting it forgets nothing;
 * the margin absorbs the difference between the callers' clocks and the object's.
 */
export const FORGET_AFTER_MS = 60_000;

/**
 * One per limited key (`<policy>:<key>`): the single writer of that key's
 * GCRA state, so concurrent requests from every isolate are decided one at a
 * time and the admitted count never exceeds the policy. The state is one
 * number, the TAT, and the rate it was counted at (written with a TAT, when it changes),
 * kept in memory and in the object's storage (so eviction forgets
 * nothing); the storage write of each admitted request commits before the
 * reply leaves. A key is limited per client (an IP, an API key), so objects
 * are made without end: each deletes its storage once its key is idle again
 * (its alarm, set once per busy spell), and a key that returns starts afresh.
 * Built over the platform's clock (src/index.ts), which decides when the key is idle;
 * the test Worker builds it over one its tests move (test/object-clocks.ts).
 */
export function rateLimiterObject(platform: { clock: Clock }) {
  return class RateLimiter extends DurableObject<Env> implements RpcServer<Rpc>, RpcServer<typeof PingRpc> {
    /** Readiness (kernel/health/contract.ts): answers without reading or writing data. */
    ping(input: RpcArgs<typeof PingRpc, "ping">): RpcReply<typeof PingRpc, "ping"> {
      rpcArgs(PingRpc, "ping", input);
      return PONG;
    }

    private tat: number | null = null;
    /** The rate `tat` was counted at; null for a key never seen (or stored before rates were). */
    private rate: Rate | null | undefined = undefined;
    /** Whether `rate` differs from the stored one: written with the next TAT ({@link keep}), never alone. */
    private rateUnstored = false;
    /** Whether this object's alarm is set, as far as it knows (not after an eviction: then it sets it again). */
    private armed = false;

    check(input: RpcArgs<Rpc, "check">): RpcReply<Rpc, "check"> {
      const { rate, now, cost } = rpcArgs(RateLimiterRpc, "check", input);
      const verdict = gcra(rate, this.at(rate, now), now, cost);
      if (verdict.allowed) this.keep(verdict.tat);
      return verdict;
    }

    record(input: RpcArgs<Rpc, "record">): RpcReply<Rpc, "record"> {
      const { rate, now, count } = rpcArgs(RateLimiterRpc, "record", input);
      const tat = spent(rate, this.at(rate, now), now, count);
      this.keep(tat);
      return { ...gcra(rate, tat, now), tat };
    }

    refund(input: RpcArgs<Rpc, "refund">): RpcReply<Rpc, "refund"> {
      const { rate, now, count } = rpcArgs(RateLimiterRpc, "refund", input);
      const before = this.at(rate, now);
      const tat = refunded(rate, before, now, count);
      if (tat !== before) this.keep(tat);
      return standing(rate, tat, now);
    }

    restore(input: RpcArgs<Rpc, "restore">): RpcReply<Rpc, "restore"> {
      const { rate, now } = rpcArgs(RateLimiterRpc, "restore", input);
      const before = this.at(rate, now);
      const tat = restored(before, now);
      // Stored only when it changes: a key never seen (or already full) keeps nothing, as a refund does.
      if (tat !== before) this.keep(tat);
      return standing(rate, tat, now);
    }

    /** Deletes the key's storage if its TAT has passed, or looks again when it will have. */
    override async alarm(): Promise<void> {
      this.armed = false;
      const tat = this.current();
      if (tat + FORGET_AFTER_MS <= platform.clock.now().getTime()) {
        this.tat = null;
        this.rate = undefined;
        this.rateUnstored = false;
        await this.ctx.storage.deleteAll();
        return;
      }
      await this.ctx.storage.setAlarm(tat + FORGET_AFTER_MS);
      this.armed = true;
    }

    /** The key's TAT: in memory, else as stored (read once per object lifetime), else 0 for a key never seen. */
    private current(): number {
      this.tat ??= this.ctx.storage.kv.get<number>(TAT) ?? 0;
      return this.tat;
    }

    /**
     * The key's TAT counted at `rate`: as it is, or re-counted when it was counted at another
     * rate (the tenant changed its setting), stored at once so memory and storage agree. The
     * rate is stored only with a TAT: alone (a refund or a refused check on a key never seen)
     * it would be a row no alarm deletes. Until then storage holds the TAT at the old rate,
     * which re-counts to the same TAT, so an eviction in between loses nothing.
     */
    private at(rate: Rate, now: number): number {
      const tat = this.current();
      this.rate ??= this.ctx.storage.kv.get<Rate>(RATE) ?? null;
      if (this.rate !== null && sameRate(this.rate, rate)) return tat;
      const counted = this.rate === null ? tat : rerated(this.rate, rate, tat, now);
      this.rate = rate;
      this.rateUnstored = true;
      if (counted !== tat) this.keep(counted);
      return counted;
    }

    /** Stores the TAT (and its rate, if new), and sets the alarm that will forget them unless one is set (not awaited: the output gate holds the reply until both are stored). */
    private keep(tat: number): void {
      this.tat = tat;
      this.ctx.storage.kv.put(TAT, tat);
      if (this.rateUnstored && this.rate) {
        this.ctx.storage.kv.put(RATE, this.rate);
        this.rateUnstored = false;
      }
      if (!this.armed) {
        this.armed = true;
        this.ctx.storage.setAlarm(tat + FORGET_AFTER_MS).catch(() => {
          this.armed = false; // the next admitted request tries again
        });
      }
    }
  };
}

/** A RateLimiter object, as the class {@link rateLimiterObject} returns. */
export type RateLimiter = InstanceType<ReturnType<typeof rateLimiterObject>>;
