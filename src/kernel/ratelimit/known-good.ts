import { TtlCache } from "../cache/ttl-cache";

/**
 * The credentials and tenant names an isolate has seen resolve (failures.ts), by key: what an
 * address spent on guesses is still served. Bounded in size and in age: an entry not seen again
 * within `ttlMs` goes.
 */
export interface KnownGood {
  has(key: string): boolean;
  /** Records a key that resolved (when there is room: see {@link knownGoodSet}), or refreshes it. */
  remember(key: string): void;
  /** Drops a key that failed since (a key revoked, a tenant deleted). */
  forget(key: string): void;
}

/**
 * A {@link KnownGood} set of at most `maxEntries` keys. Full, it keeps the keys it holds until they
 * go stale, and a new one waits for room (it is then gated as any unknown key, the documented
 * bound). Pushing out the oldest instead let anyone with many valid credentials (API keys minted
 * in a tenant of their own; each is remembered as it resolves, before any rate limit) empty it of
 * every neighbour's, who then waited behind their shared address's guesses.
 */
export function knownGoodSet(options: { ttlMs: number; maxEntries: number; now?: () => number }): KnownGood {
  const cache = new TtlCache<string, true>(options);
  return {
    has: (key) => cache.get(key) !== undefined,
    remember: (key) => {
      cache.setIfRoom(key, true);
    },
    forget: (key) => cache.delete(key),
  };
}
