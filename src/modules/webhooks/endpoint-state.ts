/**
 * What a WebhookEndpoint actor keeps beside its delivery table, in its
 * object's key-value storage: the config it delivers under, its circuit
 * breaker, its failure streak, its queue's position counter and the config
 * version it stopped under; and the rule by which it adopts a config the
 * registry sends. Functions over the object's KV handle; the actor decides
 * when to call them and what to schedule after.
 */
import { type BreakerState, initialBreaker } from "../../kernel/resilience/breaker";
import { type EndpointConfig, EndpointConfigSchema } from "./contract";
import { type FailureStreak, noStreak } from "./domain";

const CONFIG = "endpoint.config";
const BREAKER = "endpoint.breaker";
const STREAK = "endpoint.streak";
const POSITION = "endpoint.position";
/** The config version this actor stopped delivering under: an enabling config must be newer. */
const STOPPED = "endpoint.stopped_version";

/** The config the actor delivers under, or null before the registry sent one. */
export function storedConfig(kv: SyncKvStorage): EndpointConfig | null {
  return kv.get<EndpointConfig>(CONFIG) ?? null;
}

/** Keeps `config` as is (no version rule: see {@link adoptConfig} for the registry's). */
export function putConfig(kv: SyncKvStorage, config: EndpointConfig): void {
  kv.put(CONFIG, config);
}

/** The endpoint's circuit breaker, closed when none is kept. */
export function storedBreaker(kv: SyncKvStorage): BreakerState {
  return kv.get<BreakerState>(BREAKER) ?? initialBreaker();
}

export function putBreaker(kv: SyncKvStorage, state: BreakerState): void {
  kv.put(BREAKER, state);
}

/** The endpoint's run of failed attempts, empty when none is kept. */
export function storedStreak(kv: SyncKvStorage): FailureStreak {
  return kv.get<FailureStreak>(STREAK) ?? noStreak();
}

export function putStreak(kv: SyncKvStorage, streak: FailureStreak): void {
  kv.put(STREAK, streak);
}

/** The next queue position, counted up and kept. */
export function takePosition(kv: SyncKvStorage): number {
  const next = (kv.get<number>(POSITION) ?? 0) + 1;
  kv.put(POSITION, next);
  return next;
}

/** Forgets the config, breaker, streak and stopped version (a purged endpoint); the position counter stays, as before the move. */
export function clearEndpointState(kv: SyncKvStorage): void {
  for (const key of [CONFIG, BREAKER, STREAK, STOPPED]) kv.delete(key);
}

/** Keeps `config` disabled and remembers the version it stopped under. */
export function markStopped(kv: SyncKvStorage, config: EndpointConfig): void {
  kv.put(CONFIG, { ...config, enabled: false });
  kv.put(STOPPED, config.version);
}

/**
 * Keeps the newer of the stored config and `config` (versions only grow);
 * `adopted` is false when the stored one was newer and stays. A config that
 * enables a stopped endpoint starts it afresh: breaker closed, streak cleared.
 */
export function adoptConfig(kv: SyncKvStorage, config: EndpointConfig): { config: EndpointConfig; adopted: boolean } {
  const stored = storedConfig(kv);
  if (stored && stored.version > config.version) return { config: stored, adopted: false };
  let parsed = EndpointConfigSchema.parse(config);
  // Same version, same secrets (a rotation makes a new version); the kept copy may have been
  // re-sealed since (resealSecrets), and a message routed before must not bring the old sealing back.
  if (stored && stored.version === parsed.version) parsed = { ...parsed, secrets: stored.secrets };
  // Messages routed before the registry heard that this actor stopped carry the old,
  // enabled config: only a newer version (an admin enabling it again) starts it.
  const stopped = kv.get<number>(STOPPED);
  if (stopped !== undefined && parsed.version <= stopped) parsed = { ...parsed, enabled: false };
  kv.put(CONFIG, parsed);
  // Enabled again, or pointed at another receiver: its failures so far say nothing about what comes.
  if (stored && parsed.enabled && (!stored.enabled || stored.url !== parsed.url)) {
    kv.put(BREAKER, initialBreaker());
    kv.put(STREAK, noStreak());
  }
  return { config: parsed, adopted: true };
}
