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

/**
 * Thrown when a value is sealed or opened, outside a request, for a tenant id the tenant
 * registry never held (a typo, a made-up or stale id in a module's job or subscriber): a
 * caller's bug. Thrown before the seed source is asked, so no tenant directory is opened for
 * the id (its schema would be storage that no erasure removes). A deleted tenant's id is not
 * this: its values answer `KeyMaterialDestroyed`, as they do once the erasure shredded them.
 */
export class UnregisteredTenant extends Error {
  override name = "UnregisteredTenant";
  constructor(readonly tenantId: string) {
    super(`no tenant has the id ${JSON.stringify(tenantId)}: nothing is sealed or opened for it`);
  }
}
