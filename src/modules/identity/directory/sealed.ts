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

/** The most sealed values one page carries (and one re-seal call replaces: contract.ts, `resealValues`). */
export const SEALED_PAGE_MAX = 500;

export class SealedValues {
  constructor(private readonly store: DirectoryStore) {}

  /**
   * A page of the sealed values the directory holds: the SSO client secret first (on the
   * first page), then TOTP secrets in user-id order after `after`, at most `limit` of them;
   * `next` is the `after` of the next page (null: none). Paged because a tenant may have
   * many thousands of TOTP users, more than one reply should carry.
   */
  page(after: string | undefined, limit: number): { values: DirectorySealed[]; next: string | null } {
    const sso =
      after === undefined
        ? this.store.sql
            .exec<{ sealed_secret: string }>("select sealed_secret from sso_provider where id = 1")
            .toArray()
            .map((r) => ({ kind: "identity.sso.client_secret" as const, key: "sso", sealed: r.sealed_secret }))
        : [];
    const rows = this.store.sql
      .exec<{ user_id: string; sealed_secret: string }>(
        "select user_id, sealed_secret from two_factor where user_id > ? order by user_id limit ?",
        after ?? "",
        limit,
      )
      .toArray();
    const totp = rows.map((r) => ({ kind: "identity.totp" as const, key: r.user_id, sealed: r.sealed_secret }));
    return { values: [...sso, ...totp], next: rows.length === limit ? (rows.at(-1)?.user_id ?? null) : null };
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
