import type { ModuleSweep } from "../modules";

const WEBHOOKS = "/api/v1/admin/webhooks";
/** The same endpoints, by tenant, for the platform operator (root key). */
const PLATFORM = "/api/v1/platform/tenants/{tenant_id}/webhooks";

/**
 * The webhooks module's operations: an endpoint's whole life, its test message, its log and
 * redeliveries, and the platform operator's listing, log, redelivery, disabling and enabling of them.
 */
export const sweep: ModuleSweep = {
  samples: {
    [`POST ${WEBHOOKS}`]: { url: "https://hooks.example.com/plinth", events: ["blog.post.*"] },
    [`PATCH ${WEBHOOKS}/{id}`]: { description: "orders" },
    [`POST ${WEBHOOKS}/{id}/redeliver-failed`]: { since: "2026-01-01T00:00:00Z", limit: 50 },
    [`POST ${PLATFORM}/{id}/redeliver-failed`]: { since: "2026-01-01T00:00:00Z", limit: 50 },
  },
  async valid(s, fx) {
    const admin = { intent: "valid" as const, label: "admin key", headers: { authorization: `Bearer ${fx.adminKey}` } };
    const created = await s.need<{ id: string }>({
      ...admin,
      op: `POST ${WEBHOOKS}`,
      expect: 201,
      json: { url: "https://hooks.example.com/plinth", events: ["blog.post.*"], description: "sweep" },
    });
    const endpoint = { ...admin, params: { id: created.id } };
    fx.ids[`${WEBHOOKS}/`] = created.id;
    await s.call({ ...admin, op: `GET ${WEBHOOKS}`, expect: 200 });
    await s.call({ ...endpoint, op: `GET ${WEBHOOKS}/{id}`, expect: 200 });
    await s.call({ ...endpoint, op: `PATCH ${WEBHOOKS}/{id}`, expect: 200, json: { description: "orders" } });
    await s.call({ ...endpoint, op: `POST ${WEBHOOKS}/{id}/rotate-secret`, expect: 200 });
    await s.call({ ...endpoint, op: `POST ${WEBHOOKS}/{id}/test`, expect: 202 });
    const log = await s.need<{ items: { id: string }[] }>({
      ...endpoint,
      op: `GET ${WEBHOOKS}/{id}/deliveries`,
      expect: 200,
    });
    const delivery = { ...admin, params: { id: created.id, delivery_id: log.items[0]?.id ?? "missing" } };
    await s.call({ ...delivery, op: `GET ${WEBHOOKS}/{id}/deliveries/{delivery_id}`, expect: 200 });
    await s.call({ ...delivery, op: `POST ${WEBHOOKS}/{id}/deliveries/{delivery_id}/redeliver`, expect: 202 });
    await s.call({
      ...endpoint,
      op: `POST ${WEBHOOKS}/{id}/redeliver-failed`,
      expect: 200,
      json: { since: "2026-01-01T00:00:00Z", limit: 50 },
    });
    const root = { intent: "valid" as const, label: "root key", headers: { authorization: `Bearer ${fx.rootKey}` } };
    const operated = { ...root, params: { tenant_id: fx.tenantId, id: created.id } };
    fx.ids[`${PLATFORM}/`] = created.id;
    await s.call({ ...root, op: `GET ${PLATFORM}`, expect: 200, params: { tenant_id: fx.tenantId } });
    await s.call({ ...operated, op: `GET ${PLATFORM}/{id}/deliveries`, expect: 200 });
    await s.call({
      ...operated,
      op: `POST ${PLATFORM}/{id}/redeliver-failed`,
      expect: 200,
      json: { since: "2026-01-01T00:00:00Z", limit: 50 },
    });
    // Disabled, then enabled again: the error requests derived later need it enabled.
    await s.call({ ...operated, op: `POST ${PLATFORM}/{id}/disable`, expect: 200 });
    await s.call({ ...operated, op: `POST ${PLATFORM}/{id}/enable`, expect: 200 });
    // A second endpoint to delete: the error requests derived later still need the first one.
    const doomed = await s.need<{ id: string }>({
      ...admin,
      op: `POST ${WEBHOOKS}`,
      expect: 201,
      json: { url: "https://hooks.example.com/gone", events: ["*"] },
    });
    await s.call({ ...admin, op: `DELETE ${WEBHOOKS}/{id}`, expect: 204, params: { id: doomed.id } });
  },
};
