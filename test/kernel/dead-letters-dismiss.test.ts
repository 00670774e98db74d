// A dead letter nobody will replay (its module was removed, its event already applied) is
// dismissed: deleted, so it no longer waits in the lists and the hourly report, and logged
// with who dismissed which letter (docs/events.md, "Dead letters").

import { afterEach, describe, expect, it, vi } from "vitest";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { callerOf, newTenant, rootKey } from "../identity/helpers";
import { infoLines } from "../log-lines";
import { eventLetterOf } from "./dead-letter-fixtures";

// At info, where the dismissal's line is (the suite logs warnings only).
const call = callerOf(testApp(modules, { LOG_LEVEL: "info" }).fetch);

const letterOf = (tenantId: string) => eventLetterOf(tenantId, "dismiss");

/** The `dead letter dismissed` lines logged while `run` ran. */
const dismissals = (run: () => Promise<void>) => infoLines("dead letter dismissed", run);

describe("dismissing a dead letter", () => {
  afterEach(() => vi.restoreAllMocks());

  it("the operator dismisses any tenant's letter with the root key: gone from the lists, logged with who and what", async () => {
    const t = await newTenant();
    const { id, eventId } = await letterOf(t.id);
    const root = { token: rootKey() };
    const lines = await dismissals(async () => {
      const res = await call(`/api/v1/platform/events/dead-letters/${id}`, { ...root, method: "DELETE" });
      expect(res.status, JSON.stringify(res.body)).toBe(204);
    });
    expect(lines).toEqual([
      expect.objectContaining({
        event: "events.dead_letter.dismissed",
        dead_letter_id: id,
        event_id: eventId,
        event_type: "gone.thing.happened",
        tenant_id: t.id,
        by: "platform:platform",
      }),
    ]);
    const listed = await call(`/api/v1/platform/events/dead-letters?tenant_id=${t.id}`, root);
    expect(listed.body.items).toEqual([]);
    expect((await call("/api/v1/admin/dead-letters", { token: t.adminKey })).body.items).toEqual([]);
    // Once gone, or never there: 404.
    const again = await call(`/api/v1/platform/events/dead-letters/${id}`, { ...root, method: "DELETE" });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe("not_found");
    // A tenant's key cannot use the platform's route.
    const other = await letterOf(t.id);
    const denied = await call(`/api/v1/platform/events/dead-letters/${other.id}`, {
      token: t.adminKey,
      method: "DELETE",
    });
    expect(denied.status).toBe(403);
  });

  it("a tenant admin dismisses its own letters with admin.events.write, never another tenant's", async () => {
    const [t, other] = [await newTenant(), await newTenant()];
    const mine = await letterOf(t.id);
    const theirs = await letterOf(other.id);
    const reader = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "r", scopes: ["admin.events.read"] },
    });
    const denied = await call(`/api/v1/admin/dead-letters/${mine.id}`, {
      token: String(reader.body.key),
      method: "DELETE",
    });
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toBe("missing permission admin.events.write");
    // Another tenant's letter is as unknown as a made-up id, and stays.
    const foreign = await call(`/api/v1/admin/dead-letters/${theirs.id}`, { token: t.adminKey, method: "DELETE" });
    expect(foreign.status).toBe(404);
    expect((await call("/api/v1/admin/dead-letters", { token: other.adminKey })).body.items).toHaveLength(1);

    const lines = await dismissals(async () => {
      const res = await call(`/api/v1/admin/dead-letters/${mine.id}`, { token: t.adminKey, method: "DELETE" });
      expect(res.status).toBe(204);
    });
    expect(lines).toEqual([
      expect.objectContaining({ dead_letter_id: mine.id, tenant_id: t.id, by: expect.stringMatching(/^api_key:/) }),
    ]);
    expect((await call("/api/v1/admin/dead-letters", { token: t.adminKey })).body.items).toEqual([]);
  });
});
