import { forEachTenant } from "../../kernel/jobs/each-tenant";
import type { JobDef } from "../../kernel/modules/types";
import { dismissMailToDigest } from "../../kernel/notify/recipient-dismissal";
import { mailSuppressionStore } from "../../kernel/notify/suppressions";
import { directory } from "../identity/directory/contract";
import { keyIndex } from "../identity/key-index";

/**
 * How long an expired API key stays in its tenant's directory before the purge forgets it:
 * 30 days. It authenticates nothing once expired (and its D1 index row only routes it to
 * the directory that refuses it), so the wait is for people: its row (name, prefix,
 * `created_by`, `last_used_at`) is what an operator reads when an integration starts failing
 * with 401 and someone asks which key it used and whether it simply ran out, and a month
 * covers a monthly report or a holiday. Its creation and revocation stay in the audit log
 * for good.
 */
export const EXPIRED_KEY_RETENTION_MS = 30 * 24 * 3_600_000;

/**
 * How long an invitation that ended (accepted, revoked or expired) stays readable at
 * `GET /admin/invitations/{id}` before the purge forgets it: 30 days after it ended. An
 * administrator's script polls that Location to learn whether the invitee joined, and a
 * person asks about it within the month; the row holds the invitee's email, so it is not
 * kept for good. The audit log keeps the invitation's creation and its end.
 */
export const ENDED_INVITATION_RETENTION_MS = 30 * 24 * 3_600_000;

/**
 * Hourly, for every tenant: its directory forgets expired or spent
 * verification and reset tokens, refresh-token families that are revoked
 * or wholly expired, API keys expired for {@link EXPIRED_KEY_RETENTION_MS}
 * (each directory in one transaction), whose rows in the D1 key index are then
 * removed, and invitations ended for {@link ENDED_INVITATION_RETENTION_MS}; the mail dead letters
 * of accounts deleted while D1 failed are dismissed (user-removal.ts), and the digests of deleted
 * recipients whose late mail can no longer arrive are forgotten (kernel/notify/suppressions.ts). Here rather than in
 * identity, which knows no tenant list: the tenants module keeps it.
 */
export const purgeTokens: JobDef = {
  name: "purge-tokens",
  cron: "30 * * * *",
  retry: { attempts: 3, base_ms: 10_000, max_ms: 60_000 },
  async run(runtime) {
    const { env, log, clock } = runtime;
    const at = clock.now();
    const now = at.toISOString();
    const keysExpiredBefore = new Date(at.getTime() - EXPIRED_KEY_RETENTION_MS).toISOString();
    const invitationsEndedBefore = new Date(at.getTime() - ENDED_INVITATION_RETENTION_MS).toISOString();
    // Named so the log's redaction (any field naming a token, or ending in `key`/`keys`:
    // kernel/log) leaves the counts readable; `api_keys` was printed as "[redacted]".
    const purged = { single_use: 0, families: 0, refresh: 0, api_keys_purged: 0, invitations: 0, mail_dead_letters: 0 };
    // Suspended tenants too: their expired credentials still leave on the retention's schedule.
    const { seen, failed } = await forEachTenant(runtime, async (id) => {
      const counts = await directory(env, id).purgeExpired({ now, keysExpiredBefore, invitationsEndedBefore });
      // After the directory forgot them: a row left by a failure here routes to a directory
      // that no longer knows the key, which refuses it as unknown (identity/key-index.ts).
      await keyIndex(env.DB).remove(counts.key_hashes);
      purged.single_use += counts.one_time_tokens;
      purged.families += counts.families;
      purged.refresh += counts.refresh_tokens;
      purged.api_keys_purged += counts.key_hashes.length;
      purged.invitations += counts.invitations;
      // Deleted accounts' mail dead letters whose dismissal failed after the deletion's commit:
      // found again by the digest the directory kept, which it forgets once D1 is done.
      if (counts.mail_dismissals.length > 0) {
        for (const digest of counts.mail_dismissals) {
          purged.mail_dead_letters += await dismissMailToDigest(runtime, id, digest, "tenants/purge-tokens");
        }
        await directory(env, id).mailDismissed({ digests: counts.mail_dismissals });
      }
    });
    // Deleted recipients whose late mail can no longer fail into the dead letters: their digests
    // go, as docs/notifications.md promises (a platform-wide table, so once per run).
    const recipientsReleased = await mailSuppressionStore(env.DB).forgetEnded(now);
    const summary = { tenants: seen, ...purged, mail_recipients_released: recipientsReleased };
    log.info("expired credentials purged", summary);
    if (failed > 0) throw new Error(`${failed} of ${seen} tenant directories failed to purge`);
    // The run's result too, so `plinth jobs run tenants purge-tokens` and `jobs list` show what it
    // did (the mail dead letters it dismissed, among them: docs/identity.md) without the logs.
    return summary;
  },
};
