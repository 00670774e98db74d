// Rebuilding `audit_entries` from the tenants' AuditLog chains: most entries come from
// writers that keep no event log, so no replay of events can bring them back, but the
// chain holds every one. The rows a rebuild writes must be the live path's, field for
// field, whatever was deleted, however often it runs and whatever it races.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Envelope } from "../../src/kernel/events/envelope";
import { auditLog } from "../../src/modules/audit/contract";
import { recordEvents } from "../../src/modules/audit/subscriber";
import { deliver } from "../helpers";
import { auditSettled, call, newTenant, rebuildToEnd, rootKey } from "../identity/helpers";

type Row = Record<string, unknown>;

let n = 0;
/** An event as a writer with no event log sends it (the tenant directory here), with facts. */
const event = (tenant: string): Envelope => {
  const id = `rb-${++n}-${tenant}`;
  return {
    id,
    type: n % 2 ? "identity.user.updated" : "identity.role.granted",
    tenant_id: tenant,
    stream: `${tenant}/user/u${n % 7}`,
    version: 1,
    occurred_at: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    actor: { kind: "user", id: `u${n % 3}` },
    request_id: `req-${id}`,
    ip_hash: n % 4 ? "ab".repeat(16) : undefined,
    ...(n % 2 ? {} : { audit: { role: "editor" } }),
    data: {},
  };
};

/** Appends `count` events to the tenant's chain and rows through the queue consumer's path. */
async function record(tenant: string, count: number): Promise<void> {
  const events = Array.from({ length: count }, () => event(tenant));
  for (let i = 0; i < events.length; i += 300) await deliver(recordEvents, events.slice(i, i + 300));
}

const rows = async (tenant: string): Promise<Row[]> =>
  (await env.DB.prepare("select * from audit_entries where tenant_id = ? order by seq").bind(tenant).all<Row>())
    .results;

/** The tenant's chain as read-model rows: what the live path writes of each entry. */
async function chainRows(tenant: string): Promise<Row[]> {
  const out: Row[] = [];
  for (let from = 1; ; from += 500) {
    const page = await auditLog(env, tenant).entries({ fromSeq: from, limit: 500 });
    out.push(
      ...page.map((e) => ({
        tenant_id: tenant,
        seq: e.seq,
        at: e.at,
        actor_kind: e.actor.kind,
        actor_id: e.actor.id,
        action: e.action,
        target: e.target,
        request_id: e.request_id,
        ip_hash: e.ip_hash,
        detail: e.detail === undefined ? null : JSON.stringify(e.detail),
        prev_hash: e.prev_hash,
        hash: e.hash,
      })),
    );
    if (page.length < 500) return out;
  }
}

/**
 * Waits until the live path has copied all of a new tenant's own entries (its creation's
 * events): a marker registration, written after them through the same directory outbox, is in
 * its log, and the rows are as many as the chain's entries. (Three equal reads 150 ms apart
 * were taken as settled, and an entry a batch behind landed after the test's snapshot.)
 */
async function settled(tenant: { id: string; slug: string; adminKey: string }): Promise<void> {
  await auditSettled(tenant.slug, tenant.adminKey);
  for (let i = 0; i < 200; i++) {
    if ((await chainRows(tenant.id)).length === (await rows(tenant.id)).length) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the audit entries of ${tenant.id} were not all copied`);
}

const replay = (body: Record<string, unknown>) =>
  call("/api/v1/platform/events/replay", { token: rootKey(), body: { consumer: "audit:log", rebuild: true, ...body } });

const rebuild = (body: Record<string, unknown>) => rebuildToEnd("audit:log", body);

const sum = (answers: Row[], field: string) => answers.reduce((s, a) => s + Number(a[field]), 0);

const remove = (tenant: string, where: string) =>
  env.DB.prepare(`delete from audit_entries where tenant_id = ? and (${where})`).bind(tenant).run();

describe("rebuilding audit_entries from the chains", () => {
  it("writes back a tenant's deleted rows as the live path wrote them, page by page, and no other tenant's", async () => {
    const [a, b] = [await newTenant("rba"), await newTenant("rbb")];
    await Promise.all([settled(a), settled(b)]);
    await record(a.id, 1_150); // more entries than the AuditLog's page (500) and a call's budget below
    await record(b.id, 20);
    const [liveA, liveB] = [await rows(a.id), await rows(b.id)];
    expect(liveA.length).toBeGreaterThan(1_150);
    // The live rows are the chain's, so "equal to the chain" and "equal to the live path" agree.
    expect(liveA).toEqual(await chainRows(a.id));

    // Some rows in the middle, every third, and the whole tail; and some of the other tenant's.
    await remove(a.id, "seq % 3 = 0 or seq > 1000");
    await remove(b.id, "seq > 10");
    const gone = liveA.length - (await rows(a.id)).length;
    expect(gone).toBeGreaterThan(400);

    const answers = await rebuild({ tenant_id: a.id, max_events: 400 });
    // 400 entries a call at most: the calls end inside the chain, then the tenant is done.
    expect(answers.length).toBe(Math.ceil(liveA.length / 400));
    expect(answers.slice(0, -1).map((x) => x.next)).toEqual(
      answers.slice(0, -1).map((_, i) => `${(i + 1) * 400}@${a.id}`),
    );
    expect(answers.at(-1)).toMatchObject({ consumer: "audit:log", source: "state", tenants: 1, next: null });
    expect(sum(answers, "records")).toBe(liveA.length);
    expect(sum(answers, "written")).toBe(gone);
    expect(await rows(a.id)).toEqual(liveA);
    // The other tenant's rows were not written: its deleted ones are still missing.
    expect(await rows(b.id)).toEqual(liveB.filter((r) => Number(r.seq) <= 10));

    // Over an intact table a rebuild reads everything and changes nothing.
    const again = await rebuild({ tenant_id: a.id });
    expect(again).toEqual([
      { consumer: "audit:log", source: "state", tenants: 1, records: liveA.length, written: 0, next: null },
    ]);
    expect(await rows(a.id)).toEqual(liveA);

    // Every row gone: all of them come back.
    await remove(a.id, "1 = 1");
    expect(sum(await rebuild({ tenant_id: a.id }), "written")).toBe(liveA.length);
    expect(await rows(a.id)).toEqual(liveA);
    await rebuild({ tenant_id: b.id });
    expect(await rows(b.id)).toEqual(liveB);
  });

  it("puts back rows that drifted from the chain, and only those", async () => {
    const t = await newTenant("rbh");
    await settled(t);
    await record(t.id, 40);
    const live = await rows(t.id);
    // A row edited in place (by hand, or a bug), a field set to null, and one whose detail went missing.
    await env.DB.prepare("update audit_entries set action = 'x', hash = 'y' where tenant_id = ? and seq = 5")
      .bind(t.id)
      .run();
    await env.DB.prepare("update audit_entries set request_id = null where tenant_id = ? and seq = 9").bind(t.id).run();
    await env.DB.prepare(
      "update audit_entries set detail = null where tenant_id = ? and detail is not null and seq > 20",
    )
      .bind(t.id)
      .run();
    const drifted = live.filter((r) => Number(r.seq) > 20 && r.detail !== null).length + 2;
    expect(await rows(t.id)).not.toEqual(live);
    expect(sum(await rebuild({ tenant_id: t.id }), "written")).toBe(drifted);
    expect(await rows(t.id)).toEqual(live);
  });

  it("walks every tenant a page of tenants at a time", async () => {
    const [a, b] = [await newTenant("rbc"), await newTenant("rbd")];
    await Promise.all([settled(a), settled(b)]);
    await record(a.id, 30);
    await record(b.id, 30);
    const [liveA, liveB] = [await rows(a.id), await rows(b.id)];
    await remove(a.id, "seq % 2 = 0");
    await remove(b.id, "1 = 1");

    const answers = await rebuild({ limit: 2 });
    // Two tenants a call: every call but the last names the last tenant it finished.
    for (const x of answers.slice(0, -1)) expect(x).toMatchObject({ tenants: 2, next: expect.any(String) });
    expect(answers.at(-1)?.next).toBeNull();
    expect(sum(answers, "written")).toBeGreaterThanOrEqual(liveA.length - Math.ceil(liveA.length / 2) + liveB.length);
    expect(await rows(a.id)).toEqual(liveA);
    expect(await rows(b.id)).toEqual(liveB);
  });

  it("racing the live consumer, leaves exactly the chain's rows", async () => {
    const t = await newTenant("rbe");
    await settled(t);
    await record(t.id, 600);
    await remove(t.id, "seq % 2 = 1");
    // The consumer appends and copies new entries while the rebuild copies the old ones, in small calls.
    await Promise.all([rebuild({ tenant_id: t.id, max_events: 50 }), record(t.id, 400)]);
    // Whatever the rebuild read and wrote, the consumer copied its own entries: no gap, no duplicate.
    const chain = await chainRows(t.id);
    expect(chain.length).toBeGreaterThanOrEqual(1_000);
    expect(await rows(t.id)).toEqual(chain);
  });

  it("refuses a cursor that is no tenant's", async () => {
    const t = await newTenant("rbf");
    const other = await newTenant("rbg");
    // A stream cursor, another tenant's, and one naming no tenant (a typo would walk on from it and say done).
    for (const [after, tenant] of [
      [`${t.id}/post/01ABC`, undefined],
      [`3@${other.id}`, t.id],
      ["garbage", undefined],
      [`3@${t.id}x`, undefined],
    ] as const) {
      const res = await replay({ after, tenant_id: tenant });
      expect(res.status, after).toBe(400);
      expect(res.body).toMatchObject({ code: "validation_failed", errors: [{ path: "body.after" }] });
    }
    // The cursors a rebuild answers are taken.
    for (const after of [t.id, `3@${t.id}`]) expect((await replay({ after })).status, after).toBe(200);
  });
});
