import type { DirectoryStore } from "./store";

/** How many pending dismissals one purge hands the job: a deletion leaves one, and the job runs hourly. */
export const MAIL_DISMISSALS_MAX = 100;

/**
 * Mail dead letters still to dismiss for deleted accounts, by recipient digest
 * (kernel/notify/recipient-digest.ts), never the address: the letters are D1's, which cannot
 * join the deletion's transaction, so the deletion records here, in that transaction, that
 * they must go, and the row leaves once D1 confirmed it (the request's own dismissal, or the
 * hourly `tenants/purge-tokens` retrying one that failed). docs/identity.md, "What deleting an
 * account removes".
 */
export class MailDismissals {
  constructor(private readonly store: DirectoryStore) {}

  /** Within the deletion's transaction: the letters to `digest` are to be dismissed. */
  remember(digest: string, now: string): void {
    this.store.sql.exec(
      "insert into mail_dismissals (digest, requested_at) values (?, ?) on conflict(digest) do nothing",
      digest,
      now,
    );
  }

  /** The oldest dismissals not yet confirmed, at most {@link MAIL_DISMISSALS_MAX}. */
  pending(): string[] {
    return this.store.sql
      .exec<{ digest: string }>(
        "select digest from mail_dismissals order by requested_at, digest limit ?",
        MAIL_DISMISSALS_MAX,
      )
      .toArray()
      .map((r) => r.digest);
  }

  /** D1 dismissed the letters to `digests`: nothing is left to retry for them. */
  done(digests: readonly string[]): void {
    this.store.tx(() => {
      for (const digest of digests) this.store.sql.exec("delete from mail_dismissals where digest = ?", digest);
    });
  }
}
