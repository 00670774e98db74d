// A mail the operator decides never to send (an address that will never accept it, a
// reset whose token expired long ago) is dismissed: deleted, so `?pending=true` and replay-pending stop
// counting it, and logged with who dismissed which letter, never the address
// (docs/notifications.md, "Retries, dead letters, replay").
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { callerOf, newTenant, rootKey } from "../identity/helpers";
import { infoLines } from "../log-lines";
import { mailLetterOf as storedMailLetter } from "./helpers";

// At info, where the dismissal's line is (the suite logs warnings only).
const call = callerOf(testApp(modules, { LOG_LEVEL: "info" }).fetch);
const root = () => ({ token: rootKey() });

const mailLetterOf = (tenantId: string, to: string) => storedMailLetter(call, rootKey(), tenantId, to);

const pendingOf = async (tenantId: string) =>
  (
    (await call(`/api/v1/platform/mail/dead-letters?tenant_id=${tenantId}&pending=true`, root())).body.items as {
      id: string;
    }[]
  ).map((l) => l.id);

describe("dismissing a mail dead letter", () => {
  // The consumer's `mail dead-lettered` errors and every request's info line are expected here.
  beforeEach(() => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterEach(() => vi.restoreAllMocks());

  it("the operator dismisses one with the root key: gone from the list, logged with who and which mail, not its address", async () => {
    const t = await newTenant("mdis");
    const kept = await mailLetterOf(t.id, "kept@example.com");
    const { id, mailId } = await mailLetterOf(t.id, "never@example.com");

    const lines = await infoLines("mail dead letter dismissed", async () => {
      const res = await call(`/api/v1/platform/mail/dead-letters/${id}`, { ...root(), method: "DELETE" });
      expect(res.status, JSON.stringify(res.body)).toBe(204);
    });
    expect(lines).toEqual([
      expect.objectContaining({
        event: "mail.dead_letter.dismissed",
        dead_letter_id: id,
        mail_id: mailId,
        mail_kind: "identity.verify-email",
        tenant_id: t.id,
        reason: "retries exhausted",
        by: "platform:platform",
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain("never@example.com");
    // Only that one: the other still waits.
    expect(await pendingOf(t.id)).toEqual([kept.id]);

    // Once gone, or never there: 404, and there is nothing left to replay.
    const again = await call(`/api/v1/platform/mail/dead-letters/${id}`, { ...root(), method: "DELETE" });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe("not_found");
    const unknown = await call("/api/v1/platform/mail/dead-letters/nope", { ...root(), method: "DELETE" });
    expect(unknown.status).toBe(404);
    const replay = await call(`/api/v1/platform/mail/dead-letters/${id}/replay`, { ...root(), method: "POST" });
    expect(replay.status).toBe(404);
  });

  it("is the platform's: a tenant admin key gets 403 and the letter stays", async () => {
    const t = await newTenant("mdisa");
    const { id } = await mailLetterOf(t.id, "stays@example.com");
    const denied = await call(`/api/v1/platform/mail/dead-letters/${id}`, { token: t.adminKey, method: "DELETE" });
    expect(denied.status).toBe(403);
    expect(await pendingOf(t.id)).toEqual([id]);
  });
});
