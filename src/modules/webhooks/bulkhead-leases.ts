/**
 * A tenant's delivery bulkhead as its WebhookRegistry lends it out: a permit
 * to deliver now, under a lease its endpoint actor releases by, and that
 * lapses by itself if the holder never releases it; or, when the bulkhead is
 * full, when to ask again. Kept in the registry's memory: permits are about
 * attempts in flight, which an eviction ends anyway.
 */
import { Bulkhead, BulkheadFullError, BulkheadTimeoutError } from "../../kernel/resilience/bulkhead";
import { realSleeper, type Sleeper } from "../../kernel/resilience/sleep";
import type { DeliveryPolicy } from "./domain";

/** How long a bulkhead permit lives if its holder never releases it (an actor evicted mid-attempt). */
const LEASE_SLACK_MS = 5_000;

/** What an endpoint actor is told: a permit under `lease`, or when to ask again. */
export type Permit = { granted: true; lease: string } | { granted: false; retry_in_ms: number };

/** One tenant's bulkhead and its leases: see the file's header. */
export class BulkheadLeases {
  private bulkhead: Bulkhead | null = null;
  private readonly leases = new Map<string, () => void>();

  /** `sleeper`: what the queue's timeout and a lease's lapse wait on (the registry's platform's). */
  constructor(private readonly sleeper: Sleeper = realSleeper) {}

  /** A permit to deliver, sized by `policy` when first asked; `waitUntil` keeps the lease's lapse alive. */
  async acquire(policy: DeliveryPolicy, waitUntil: (p: Promise<unknown>) => void): Promise<Permit> {
    this.bulkhead ??= new Bulkhead(
      { maxConcurrent: policy.tenantConcurrency, maxQueued: policy.tenantConcurrency * 4, queueTimeoutMs: 2_000 },
      this.sleeper,
    );
    try {
      const release = await this.bulkhead.acquire();
      const lease = crypto.randomUUID();
      let held = true;
      const done = () => {
        if (!held) return;
        held = false;
        this.leases.delete(lease);
        release();
      };
      this.leases.set(lease, done);
      // A holder that never releases (evicted mid-attempt) cannot keep the permit for ever.
      waitUntil(this.sleeper.sleep(policy.attemptTimeoutMs + LEASE_SLACK_MS).then(done));
      return { granted: true, lease };
    } catch (error) {
      if (error instanceof BulkheadFullError || error instanceof BulkheadTimeoutError) {
        return { granted: false, retry_in_ms: 500 + Math.floor(Math.random() * 1_000) };
      }
      throw error;
    }
  }

  /** Ends a lease (a second release, or one that lapsed, does nothing). */
  release(lease: string): void {
    this.leases.get(lease)?.();
  }
}
