// The operator's dead-letter lists and the mail replay, filtered by a tenant: a tenant_id no
// tenant has is refused as events replay refuses it (404, told the id when it is a slug), not
// answered with nothing. `plinth mail-dead-letters replay-pending --tenant acme` (the slug)
// printed "replayed 0" after an outage, and `plinth event-dead-letters list --tenant acme`
// "(none)", exit 0, while the tenant's letters waited.
import { describe, expect, it } from "vitest";
import { call, newTenant, rootKey } from "../identity/helpers";

const root = () => ({ token: rootKey() });

describe("a tenant_id filter naming no tenant", () => {
  it("is a 404 on the events and mail dead-letter lists and the mail replay, naming the id of a slug", async () => {
    const t = await newTenant("dlfilter");
    const calls = (tenantId: string) => [
      call(`/api/v1/platform/events/dead-letters?tenant_id=${tenantId}`, root()),
      call(`/api/v1/platform/mail/dead-letters?tenant_id=${tenantId}`, root()),
      call("/api/v1/platform/mail/replay-dead-letters", { ...root(), body: { tenant_id: tenantId } }),
    ];
    for (const res of await Promise.all(calls(t.slug))) {
      expect({ status: res.status, code: res.body.code, detail: res.body.detail }).toEqual({
        status: 404,
        code: "not_found",
        detail: `no tenant has id "${t.slug}": that is the slug of tenant ${t.id}; tenant_id takes the id`,
      });
    }
    for (const res of await Promise.all(calls("01NOSUCHTENANT0000000000000"))) {
      expect({ status: res.status, detail: res.body.detail }).toEqual({
        status: 404,
        detail: 'no tenant has id "01NOSUCHTENANT0000000000000"',
      });
    }
    // The tenant's own id still filters, as before.
    const [events, mail, replay] = await Promise.all(calls(t.id));
    expect(events?.status).toBe(200);
    expect(events?.body.items).toEqual([]);
    expect(mail?.status).toBe(200);
    expect(replay?.body).toEqual({ replayed: 0, more: false });
  });
});
