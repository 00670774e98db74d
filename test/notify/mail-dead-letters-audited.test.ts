// The platform operator's dismissal or replay of a tenant's mail dead letter (a verification or
// reset mail that was never sent) is in that tenant's audit log, with which mail and of what kind,
// never its address or content (docs/notifications.md, "Retries, dead letters, replay").
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { auditOf, call, newTenant, rootKey } from "../identity/helpers";
import { mailLetterOf as storedMailLetter } from "./helpers";

const root = () => ({ token: rootKey() });

const mailLetterOf = (tenantId: string, to: string) => storedMailLetter(call, rootKey(), tenantId, to);

const facts = (letter: { id: string; mailId: string }) => ({
  dead_letter_id: letter.id,
  mail_id: letter.mailId,
  mail_kind: "identity.verify-email",
});
const platform = { kind: "platform", id: "platform" };

describe("mail dead-letter handling in the tenant's audit log", () => {
  // The consumer's `mail dead-lettered` errors are expected here.
  beforeEach(() => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterEach(() => vi.restoreAllMocks());

  it("records the operator's dismissal, replay and replay-pending of a tenant's mail letters, without the address", async () => {
    const t = await newTenant("maud");
    const dismissed = await mailLetterOf(t.id, "never@example.com");
    const replayed = await mailLetterOf(t.id, "later@example.com");
    const pending = await mailLetterOf(t.id, "pending@example.com");

    const del = await call(`/api/v1/platform/mail/dead-letters/${dismissed.id}`, { ...root(), method: "DELETE" });
    expect(del.status).toBe(204);
    const one = await call(`/api/v1/platform/mail/dead-letters/${replayed.id}/replay`, { ...root(), method: "POST" });
    expect(one.status).toBe(202);
    const rest = await call("/api/v1/platform/mail/replay-dead-letters", { ...root(), body: { tenant_id: t.id } });
    expect(rest.body).toEqual({ replayed: 1, more: false });

    const dismissals = await auditOf(t.adminKey, "mail.dead_letter.dismissed");
    expect(dismissals).toEqual([expect.objectContaining({ actor: platform, detail: facts(dismissed) })]);
    const replays = await auditOf(t.adminKey, "mail.dead_letter.replayed", 2);
    expect(replays).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actor: platform, detail: facts(replayed) }),
        expect.objectContaining({ actor: platform, detail: facts(pending) }),
      ]),
    );
    expect(replays).toHaveLength(2);
    expect(JSON.stringify([...dismissals, ...replays])).not.toContain("@example.com");
  });
});
