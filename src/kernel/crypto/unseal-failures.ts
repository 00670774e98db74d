import { createLogger } from "../log";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";
import { KeyMaterialDestroyed, MissingKeyVersion } from "./envelope-errors";

/**
 * Sealed values that did not open, made visible to an operator: the reason is
 * counted on `/metrics` (`plinth_unseal_failures_total`), logged with what holds the value,
 * and, for a key version ENCRYPTION_KEYS lacks, remembered for `/readyz`. Recorded by
 * `Envelope.decrypt` itself, so every caller that opens a value (sign-in, two-factor,
 * webhook signing, mail, the re-encryption) is covered without knowing of it.
 */

/**
 * Why a value did not open: its key version left ENCRYPTION_KEYS (put it back), its
 * tenant's key material was destroyed (by design, after a deletion), or the AEAD refused it
 * (altered, moved, or a key whose bytes changed under the same version number).
 */
export type UnsealFailureReason = "unknown_key_version" | "key_material_destroyed" | "not_authentic";

/** The reason an unseal error stands for; null for anything else (a directory that did not answer is no unseal failure). */
export function unsealFailureReason(error: unknown): UnsealFailureReason | null {
  if (error instanceof MissingKeyVersion) return "unknown_key_version";
  if (error instanceof KeyMaterialDestroyed) return "key_material_destroyed";
  if (error instanceof NotAuthentic) return "not_authentic";
  return null;
}

/** Thrown by `Envelope.decrypt` when the AEAD refuses a ciphertext under its version's key. */
export class NotAuthentic extends Error {
  override name = "NotAuthentic";
}

/**
 * A key version this isolate could not open values with, by the kind of value sealed under
 * it: missing from ENCRYPTION_KEYS, or (not authentic) listed with a key that does not open
 * them. What `/readyz` reports.
 */
export interface MissingVersionSeen {
  version: number;
  kind: string;
  failures: number;
}

// Per isolate, by design: ENCRYPTION_KEYS changes only with a new deployment, whose
// isolates start with an empty record, so nothing here outlives the configuration it
// describes. Bounded: versions are few, and kinds are the declared ones and `undeclared`.
const missingSeen = new Map<string, MissingVersionSeen>();
const notAuthenticSeen = new Map<string, MissingVersionSeen>();
const MAX_REMEMBERED = 100;

function remember(record: Map<string, MissingVersionSeen>, version: number, kind: string): void {
  const key = `${version}\u0000${kind}`;
  const seen = record.get(key);
  if (seen) seen.failures++;
  else if (record.size < MAX_REMEMBERED) record.set(key, { version, kind, failures: 1 });
}

const listed = (record: Map<string, MissingVersionSeen>): MissingVersionSeen[] =>
  [...record.values()].map((s) => ({ ...s })).sort((a, b) => b.failures - a.failures);

const log = createLogger("warn", { component: "crypto" });

/**
 * Counts and logs a value of `tenantId`'s `field` (sealed under `version`) that did not
 * open with `error`; anything not an unseal failure is left alone. Never logs the value.
 * `kind` is the field's declared kind or `undeclared` (sealed-kinds.ts, `SealedKinds.label`),
 * never the field's own text: one series per record would grow /metrics without bound.
 */
export function noteUnsealFailure(
  tenantId: string,
  field: string,
  kind: string,
  version: number,
  error: unknown,
): void {
  const reason = unsealFailureReason(error);
  if (reason === null) return;
  isolateRecorder.inc(METRICS.unsealFailures, [reason, kind, String(version)]);
  const fields = { reason, key_version: version, kind, field, tenant_id: tenantId };
  if (reason === "unknown_key_version") {
    remember(missingSeen, version, kind);
    log.error(
      `a sealed value cannot be opened: ENCRYPTION_KEYS lacks key version ${version}; put it back, then run plinth crypto reencrypt`,
      fields,
    );
  } else if (reason === "not_authentic") {
    // Remembered for /readyz: a new key put under a listed version number looks like this,
    // and nothing else (versions, reencrypt) can tell, as neither opens a current value.
    remember(notAuthenticSeen, version, kind);
    log.error("a sealed value does not open under its key version (altered, or that version's key changed)", fields);
  } else {
    log.warn("a sealed value of a tenant whose key material was destroyed cannot be opened", fields);
  }
}

/** The key versions this isolate found missing since it started, most failures first. */
export function missingVersionsSeen(): MissingVersionSeen[] {
  return listed(missingSeen);
}

/** The listed key versions whose key refused values sealed under them, most failures first. */
export function notAuthenticVersionsSeen(): MissingVersionSeen[] {
  return listed(notAuthenticSeen);
}
