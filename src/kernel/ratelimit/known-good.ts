import { TtlCache } from "../cache/ttl-cache";

/**
 * The credentials and tenant names an isolate has seen resolve (failures.ts), by key: what an
 * address spent on guesses is still served. Bounded in size and in age: an entry not seen again
 * within `ttlMs` goes.
 */
export interface KnownGood {
  has(key: string): boolean;
  /** Records a key that resolved, or refreshes it. */
  remember(key: string): void;
  /** Drops a key that failed since (a key revoked, a tenant deleted). */
  forget(key: string): void;
}

/** A {@link KnownGood} set of at most `maxEntries` keys. */
export function knownGoodSet(options: { ttlMs: number; maxEntries: number; now?: () => number }): KnownGood {
  const cache = new TtlCache<string, true>(options);
  return {
    has: (key) => cache.get(key) !== undefined,
    remember: (key) => cache.set(key, true),
    forget: (key) => cache.delete(key),
  };
}
