import { ConfigError } from "../errors/config-error";

/**
 * The envelope's failures an operator causes or expects, apart from the Envelope so that
 * what records them (unseal-failures.ts) and what maps them to problems need not import it.
 */

/**
 * Thrown when a ciphertext names a master key version that ENCRYPTION_KEYS no longer holds.
 * Logged where it is met, with the value's holder (Envelope.decrypt, its one thrower: a write
 * seals under the current version, which ENCRYPTION_KEYS always lists; unseal-failures.ts).
 */
export class MissingKeyVersion extends ConfigError {
  override name = "MissingKeyVersion";
  readonly variable = "ENCRYPTION_KEYS";
  override readonly logged = true;
  get detail(): string {
    // A deployment that dropped a key version its data still uses: the operator's to put back.
    return `ENCRYPTION_KEYS lacks key version ${this.version}, which stored data is sealed with: put it back (docs/operations.md, "Rotating keys")`;
  }
  constructor(readonly version: number) {
    super(`no master key of version ${version} (it was removed from ENCRYPTION_KEYS)`);
  }

  /** The error whose message is `message` (as it crosses Durable Object RPC: durable/remote-errors.ts); null for another message. */
  static fromMessage(message: string): MissingKeyVersion | null {
    const version = /^no master key of version (\d+) /.exec(message)?.[1];
    return version === undefined ? null : new MissingKeyVersion(Number(version));
  }
}

/** Thrown when a tenant's key material is gone: its ciphertexts are unreadable by design. */
export class KeyMaterialDestroyed extends Error {
  override name = "KeyMaterialDestroyed";
}
