import { z } from "zod";
import type { Aead } from "./aead";
import { KeyMaterialDestroyed, MissingKeyVersion } from "./envelope-errors";
import type { SealedKinds } from "./sealed-kinds";
import { base64UrlDecode, base64UrlEncode } from "./tokens";
import { NotAuthentic, noteUnsealFailure } from "./unseal-failures";

/**
 * Envelope encryption of tenant secrets.
 *
 * - Master keys come from the `ENCRYPTION_KEYS` secret: a JSON array of
 *   `{ version, key }` (key = 32 random bytes, base64url), newest first; the
 *   first encrypts, all decrypt.
 * - Each tenant has a random seed held by its directory. Its data key for a
 *   version is HKDF-SHA256(master_v, salt = seed, info = tenant id + version).
 *   Destroying the seed makes every ciphertext of the tenant unreadable
 *   (crypto-shredding: the erasure path for immutable events).
 * - Ciphertexts are `v<version>.<nonce>.<ciphertext+tag>` (base64url), sealed
 *   with XChaCha20-Poly1305 under a random 24-byte nonce, with the tenant id
 *   and the field name as associated data: a ciphertext moved to another
 *   tenant or field does not decrypt.
 * - A field's kind (its name up to the first `/`) must be one of `kinds`, what the
 *   platform declares (sealed-kinds.ts): any other is refused before anything is derived.
 */

const MasterKeysSchema = z
  .array(
    z.object({
      version: z.number().int().min(1).max(1_000_000),
      key: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be 32 bytes, base64url"),
    }),
  )
  .min(1, "must hold at least one version (the current one)")
  .max(20)
  .superRefine((keys, ctx) => {
    // Named, so an operator who added a version by hand knows which one to renumber.
    const seen = new Set<number>();
    for (const { version } of keys) {
      if (seen.has(version)) ctx.addIssue({ code: "custom", message: `version ${version} is listed twice` });
      seen.add(version);
    }
  });

/** Parsed master keys. */
export interface MasterKeys {
  current: number;
  keys: Map<number, Uint8Array>;
}

/**
 * What is wrong with an ENCRYPTION_KEYS value (not JSON, which entry's version or key, a
 * version listed twice), or undefined: the config check logs it, so it never quotes the
 * value or a key.
 */
export function masterKeysProblem(secret: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(secret);
  } catch {
    return "is not JSON (expected [{ version, key }], newest first)";
  }
  const parsed = MasterKeysSchema.safeParse(json);
  if (parsed.success) return undefined;
  const issues = parsed.error.issues.slice(0, 5).map((i) => {
    const where = i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
    return where === "" ? i.message : `${where} ${i.message}`;
  });
  return `is invalid: ${issues.join("; ")} (expected [{ version, key }], newest first, each key 32 random bytes in base64url)`;
}

/** Parses ENCRYPTION_KEYS; the error never contains key material. */
export function parseMasterKeys(secret: string): MasterKeys {
  const problem = masterKeysProblem(secret);
  if (problem !== undefined) throw new Error(`ENCRYPTION_KEYS ${problem}`);
  const data = MasterKeysSchema.parse(JSON.parse(secret));
  const first = data[0];
  if (!first) throw new Error("ENCRYPTION_KEYS is empty");
  return { current: first.version, keys: new Map(data.map((k) => [k.version, base64UrlDecode(k.key)])) };
}

/** Where tenant seeds live: `null` means the tenant's key material was destroyed. */
export interface TenantSeeds {
  /** The tenant's seed, created on first use when `create` is true. */
  seed(tenantId: string, create: boolean): Promise<Uint8Array | null>;
}

export { KeyMaterialDestroyed, MissingKeyVersion, UnregisteredTenant } from "./envelope-errors";

const FORMAT = /^v([1-9]\d{0,6})\.([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{22,})$/;
const encoder = new TextEncoder();

/**
 * The master key version a stored ciphertext was sealed under, read from its
 * `v<version>.` prefix without opening it (no key needed), or null when the
 * value is not an envelope ciphertext. What the key-versions report counts.
 */
export function sealedVersion(stored: string): number | null {
  const m = FORMAT.exec(stored);
  return m?.[1] ? Number(m[1]) : null;
}

/** Encrypts and decrypts tenant-scoped fields of the kinds it is given. */
export class Envelope {
  constructor(
    private readonly aead: Aead,
    private readonly masters: MasterKeys,
    private readonly seeds: TenantSeeds,
    private readonly kinds: SealedKinds,
  ) {}

  private async dataKey(tenantId: string, version: number, create: boolean): Promise<Uint8Array> {
    const master = this.masters.keys.get(version);
    if (!master) throw new MissingKeyVersion(version);
    const seed = await this.seeds.seed(tenantId, create);
    if (!seed) throw new KeyMaterialDestroyed(`the key material of tenant ${tenantId} was destroyed`);
    const ikm = await crypto.subtle.importKey("raw", master, "HKDF", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: seed, info: encoder.encode(`plinth data key|${tenantId}|${version}`) },
      ikm,
      256,
    );
    return new Uint8Array(bits);
  }

  private static ad(tenantId: string, field: string): Uint8Array {
    return encoder.encode(`${tenantId}\u0000${field}`);
  }

  /**
   * Seals `plaintext` for `tenantId`'s `field` under the current master key version. Throws
   * `UndeclaredSealedKind` for a field of a kind not declared, before the tenant's seed is made.
   */
  async encrypt(tenantId: string, field: string, plaintext: Uint8Array | string): Promise<string> {
    this.kinds.check(field);
    const bytes = typeof plaintext === "string" ? encoder.encode(plaintext) : plaintext;
    const version = this.masters.current;
    const key = await this.dataKey(tenantId, version, true);
    const nonce = crypto.getRandomValues(new Uint8Array(24));
    try {
      const sealed = this.aead.seal(key, nonce, bytes, Envelope.ad(tenantId, field));
      return `v${version}.${base64UrlEncode(nonce)}.${base64UrlEncode(sealed)}`;
    } finally {
      key.fill(0);
    }
  }

  /**
   * Opens a ciphertext of `tenantId`'s `field`; throws when it was tampered with, moved, or
   * shredded, or its key version is gone. Each such failure is counted and logged here
   * (unseal-failures.ts), so no caller can leave one unseen.
   */
  async decrypt(tenantId: string, field: string, stored: string): Promise<Uint8Array> {
    const m = FORMAT.exec(stored);
    if (!m?.[1] || !m[2] || !m[3]) throw new Error("not an envelope ciphertext (v<version>.<nonce>.<ct>)");
    const version = Number(m[1]);
    try {
      const key = await this.dataKey(tenantId, version, false);
      try {
        return this.aead.open(key, base64UrlDecode(m[2]), base64UrlDecode(m[3]), Envelope.ad(tenantId, field));
      } catch (error) {
        throw new NotAuthentic(`decryption failed under key version ${version}`, { cause: error });
      } finally {
        key.fill(0);
      }
    } catch (error) {
      noteUnsealFailure(tenantId, field, this.kinds.label(field), version, error);
      throw error;
    }
  }

  /** `decrypt` as UTF-8 text. */
  async decryptText(tenantId: string, field: string, stored: string): Promise<string> {
    return new TextDecoder().decode(await this.decrypt(tenantId, field, stored));
  }

  /** Whether a ciphertext was sealed under an older master key version. */
  isStale(stored: string): boolean {
    return sealedVersion(stored) !== this.masters.current;
  }

  /** Re-seals an older ciphertext under the current version (the rotation job's step). */
  async reencrypt(tenantId: string, field: string, stored: string): Promise<string> {
    if (!this.isStale(stored)) return stored;
    const plaintext = await this.decrypt(tenantId, field, stored);
    try {
      return await this.encrypt(tenantId, field, plaintext);
    } finally {
      plaintext.fill(0);
    }
  }
}
