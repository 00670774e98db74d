// Who dismissed or replayed which of a tenant's dead letters, and when, is in that tenant's own
// audit log (GET /api/v1/admin/audit), whether a tenant admin did it or the platform operator:
// the platform's log line alone left the tenant's auditor blind (docs/events.md, "Dead letters";
// docs/audit.md, "What is recorded").

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { auditOf, call, newKey, newTenant, rootKey } from "../identity/helpers";
import { eventLetterOf } from "./dead-letter-fixtures";

const letterOf = (tenantId: string) => eventLetterOf(tenantId, "audited");

const facts = (letter: { id: string; eventId: string }) => ({
  dead_letter_id: letter.id,
  event_id: letter.eventId,
  event_type: "gone.thing.happened",
});

describe("dead-letter handling in the tenant's audit log", () => {
  // A replayed malformed event is stored again by the consumer, which says so at error.
  beforeEach(() => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterEach(() => vi.restoreAllMocks());

  it("records a tenant admin's dismissal and replay, with the key that did it and which letter", async () => {
    const t = await newTenant();
    const admin = await newKey(t.adminKey, ["admin.events.read", "admin.events.write"], "dead-letters");
    const [dismissed, replayed] = [await letterOf(t.id), await letterOf(t.id)];

    const del = await call(`/api/v1/admin/dead-letters/${dismissed.id}`, { token: admin.key, method: "DELETE" });
    expect(del.status).toBe(204);
    const post = await call(`/api/v1/admin/dead-letters/${replayed.id}/replay`, { token: admin.key, method: "POST" });
    expect(post.status).toBe(202);

    expect(await auditOf(t.adminKey, "events.dead_letter.dismissed")).toEqual([
      expect.objectContaining({
        actor: { kind: "api_key", id: admin.id },
        action: "events.dead_letter.dismissed",
        detail: facts(dismissed),
      }),
    ]);
    expect(await auditOf(t.adminKey, "events.dead_letter.replayed")).toEqual([
      expect.objectContaining({
        actor: { kind: "api_key", id: admin.id },
        action: "events.dead_letter.replayed",
        detail: facts(replayed),
      }),
    ]);
  });

  it("records the operator's dismissal and replay of a tenant's letter in that tenant's log, and nothing for a refused one", async () => {
    const [t, other] = [await newTenant(), await newTenant()];
    const [dismissed, replayed, theirs] = [await letterOf(t.id), await letterOf(t.id), await letterOf(other.id)];
    const root = { token: rootKey() };

    const del = await call(`/api/v1/platform/events/dead-letters/${dismissed.id}`, { ...root, method: "DELETE" });
    expect(del.status).toBe(204);
    const post = await call(`/api/v1/platform/events/dead-letters/${replayed.id}/replay`, { ...root, method: "POST" });
    expect(post.status).toBe(202);
    // Another tenant's letter is not this tenant's admin's to dismiss or replay: 404, recorded nowhere.
    expect(
      (await call(`/api/v1/admin/dead-letters/${theirs.id}`, { token: t.adminKey, method: "DELETE" })).status,
    ).toBe(404);
    expect(
      (await call(`/api/v1/admin/dead-letters/${theirs.id}/replay`, { token: t.adminKey, method: "POST" })).status,
    ).toBe(404);

    const platform = { kind: "platform", id: "platform" };
    expect(await auditOf(t.adminKey, "events.dead_letter.dismissed")).toEqual([
      expect.objectContaining({ actor: platform, detail: facts(dismissed) }),
    ]);
    expect(await auditOf(t.adminKey, "events.dead_letter.replayed")).toEqual([
      expect.objectContaining({ actor: platform, detail: facts(replayed) }),
    ]);
    // A marker through the same path, after the refusals: the other tenant's admin dismisses a
    // letter of its own. Once its entry is in, a record a refusal sent before it has had its
    // chance to arrive (the entries of t above, sent before the refusals, told nothing of them).
    const mine = await letterOf(other.id);
    const marker = await call(`/api/v1/admin/dead-letters/${mine.id}`, { token: other.adminKey, method: "DELETE" });
    expect(marker.status).toBe(204);
    expect(await auditOf(other.adminKey, "events.dead_letter.dismissed")).toEqual([
      expect.objectContaining({ detail: facts(mine) }),
    ]);
    expect(await auditOf(other.adminKey, "events.dead_letter.replayed", 0)).toEqual([]);
  });
});
