// Rebuilding the `files` read model from each tenant's FileStore: the store keeps its live
// files, so the rows of a lost table come back as the projection wrote them; tombstones of
// deleted files (which the store no longer has) do not, and are not needed by the list.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, newTenant, rebuildToEnd } from "../identity/helpers";
import { bytesOf, eventually, uploaded } from "./helpers";

type Row = Record<string, unknown>;

const rows = async (tenant: string, where = "1 = 1"): Promise<Row[]> =>
  (await env.DB.prepare(`select * from files where tenant_id = ? and (${where}) order by id`).bind(tenant).all<Row>())
    .results;

const rebuild = (body: Record<string, unknown>) => rebuildToEnd("files:files.files", body);

/** A tenant with `count` uploads, the first of them deleted; waits for its rows (a tombstone for the deleted one). */
async function tenantWithFiles(count: number) {
  const t = await newTenant("frb");
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await uploaded(t.adminKey, bytesOf(10 + i, i), `f${i}.txt`)).id);
  const removed = await call(`/api/v1/files/${ids[0]}`, { method: "DELETE", token: t.adminKey });
  expect(removed.status).toBe(204);
  await eventually(
    () => rows(t.id),
    (r) => r.length === count && r.some((x) => x.deleted === 1),
  );
  return t;
}

const listed = async (token: string) =>
  ((await call("/api/v1/files?limit=100", { token })).body.items as { id: string }[]).map((f) => f.id);

describe("rebuilding files from the file stores", () => {
  it("writes back a tenant's live files as the projection wrote them, page by page, and no other tenant's", async () => {
    const [a, b] = [await tenantWithFiles(4), await tenantWithFiles(2)];
    const [liveA, liveB, listA] = [await rows(a.id, "deleted = 0"), await rows(b.id), await listed(a.adminKey)];
    expect(liveA).toHaveLength(3);
    await env.DB.prepare("delete from files where tenant_id in (?, ?)").bind(a.id, b.id).run();

    const answers = await rebuild({ tenant_id: a.id, max_events: 2 });
    // Three files stored (the deleted one is gone from the store), two a call.
    expect(answers.map((x) => [x.tenants, x.records, x.written])).toEqual([
      [0, 2, 2],
      [1, 1, 1],
    ]);
    expect(await rows(a.id)).toEqual(liveA);
    expect(await listed(a.adminKey)).toEqual(listA);
    expect(await rows(b.id)).toEqual([]);

    // Over intact rows, and over a tombstone, it changes nothing.
    await rebuild({ tenant_id: b.id });
    expect(await rows(b.id)).toEqual(liveB.filter((r) => r.deleted === 0));
    expect(await rebuild({ tenant_id: a.id })).toEqual([
      { consumer: "files:files.files", source: "state", tenants: 1, records: 3, written: 0, next: null },
    ]);
  });

  it("leaves a tombstone as it is: a file deleted stays deleted", async () => {
    const t = await tenantWithFiles(2);
    const before = await rows(t.id);
    expect(before.filter((r) => r.deleted === 1)).toHaveLength(1);
    expect(await rebuild({ tenant_id: t.id })).toMatchObject([{ records: 1, written: 0 }]);
    expect(await rows(t.id)).toEqual(before);
  });
});
