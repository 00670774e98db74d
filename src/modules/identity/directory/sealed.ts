import { z } from "zod";
import type { DirectoryStore } from "./store";

/**
 * The directory's sealed values as re-encryption sees them (docs/crypto.md,
 * "Envelope encryption"): the SSO client secret and each user's TOTP secret.
 * Listed as ciphertexts only, and replaced here, by their single writer, only
 * while they still hold what was read: a secret changed meanwhile (a new
 * enrolment, a new client secret) is never overwritten with an older one.
 */

/** Which sealed value: the SSO client secret (`key` "sso"), or a user's TOTP secret (`key` the user id). */
export const SealedKind = z.enum(["identity.sso.client_secret", "identity.totp"]);
export type SealedKind = z.infer<typeof SealedKind>;

export const DirectorySealedSchema = z.object({ kind: SealedKind, key: z.string().max(64), sealed: z.string() });
export type DirectorySealed = z.infer<typeof DirectorySealedSchema>;

export const DirectoryResealSchema = DirectorySealedSchema.omit({ sealed: true }).extend({
  from: z.string().min(1).max(4096),
  to: z.string().min(1).max(4096),
});
export type DirectoryReseal = z.infer<typeof DirectoryResealSchema>;

export class SealedValues {
  constructor(private readonly store: DirectoryStore) {}

  /** Every sealed value the directory holds. */
  list(): DirectorySealed[] {
    const sso = this.store.sql
      .exec<{ sealed_secret: string }>("select sealed_secret from sso_provider where id = 1")
      .toArray()
      .map((r) => ({ kind: "identity.sso.client_secret" as const, key: "sso", sealed: r.sealed_secret }));
    const totp = this.store.sql
      .exec<{ user_id: string; sealed_secret: string }>("select user_id, sealed_secret from two_factor")
      .toArray()
      .map((r) => ({ kind: "identity.totp" as const, key: r.user_id, sealed: r.sealed_secret }));
    return [...sso, ...totp];
  }

  /** Replaces each value still holding `from` with `to`, in one transaction; counts those replaced and those that had changed. */
  replace(reseals: readonly DirectoryReseal[]): { resealed: number; raced: number } {
    return this.store.tx(() => {
      let resealed = 0;
      for (const r of reseals) {
        const cursor =
          r.kind === "identity.sso.client_secret"
            ? this.store.sql.exec(
                "update sso_provider set sealed_secret = ? where id = 1 and sealed_secret = ? returning 1",
                r.to,
                r.from,
              )
            : this.store.sql.exec(
                "update two_factor set sealed_secret = ? where user_id = ? and sealed_secret = ? returning 1",
                r.to,
                r.key,
                r.from,
              );
        resealed += cursor.toArray().length;
      }
      return { resealed, raced: reseals.length - resealed };
    });
  }
}
