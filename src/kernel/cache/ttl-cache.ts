import { systemClock } from "../clock";
/**
 * A small per-isolate cache with a bounded size and a bounded staleness: an
 * entry is served for at most `ttlMs`, and the oldest entries go first when
 * it is full. Module-level instances of it are the one kind of shared mutable
 * state plinth allows; each use documents what staleness it accepts.
 *
 * @example
 * const tenants = new TtlCache<string, Tenant>({ ttlMs: 30_000, maxEntries: 1000 });
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expires: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: { ttlMs: number; maxEntries: number; now?: () => number }) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries;
    this.now = options.now ?? (() => systemClock.now().getTime());
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: K, value: V, ttlMs: number = this.ttlMs): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expires: this.now() + Math.min(ttlMs, this.ttlMs) });
  }

  /**
   * Like {@link set}, but a full cache keeps its live entries: the expired ones at the front (the
   * oldest set) make room, and when none has expired the new entry is not kept (answers false).
   * For a cache whose entries strangers can add, where pushing out the oldest would let one
   * flood of new keys evict every other user's. A key held already is always refreshed.
   */
  setIfRoom(key: K, value: V, ttlMs: number = this.ttlMs): boolean {
    this.entries.delete(key);
    const now = this.now();
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size < this.maxEntries || entry.expires > now) break;
      this.entries.delete(oldest);
    }
    if (this.entries.size >= this.maxEntries) return false;
    this.entries.set(key, { value, expires: now + Math.min(ttlMs, this.ttlMs) });
    return true;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Deletes every entry whose value matches. */
  deleteWhere(match: (value: V, key: K) => boolean): void {
    for (const [key, entry] of this.entries) if (match(entry.value, key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
