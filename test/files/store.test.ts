import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it, vi } from "vitest";
import { newId } from "../../src/kernel/crypto";
import type { Envelope } from "../../src/kernel/events/envelope";
import { fileStore } from "../../src/modules/files/contract";
import { objectKey } from "../../src/modules/files/policy";
import { fileProjection } from "../../src/modules/files/projection";
import { files } from "../../src/modules/files/read-model";
import { deliver } from "../helpers";
import { newTenant } from "../identity/helpers";

const ctx = { now: new Date().toISOString(), actor: { kind: "system" as const, id: "test" }, requestId: null };
const SHA = "a".repeat(64);

/**
 * Runs a store's timers as if their time had come (an hour from now, for a reservation),
 * and waits until they have run. The object's own alarm may already be running them (a
 * purge is due at once), in which case `runDurableObjectAlarm` finds no alarm to run.
 */
async function fireTimers(tenantId: string) {
  const stub = env.FILE_STORE.get(env.FILE_STORE.idFromName(tenantId));
  const due = () =>
    runInDurableObject(
      stub,
      (_instance, state) =>
        state.storage.sql.exec<{ n: number }>("select count(*) as n from actor_timers where at = 0").one().n,
    );
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec("update actor_timers set at = 0");
  });
  await runDurableObjectAlarm(stub);
  await vi.waitFor(async () => expect(await due()).toBe(0), { timeout: 10_000, interval: 20 });
}

describe("the FileStore actor", () => {
  it("holds quota for a running upload, and frees it with the orphan object when the upload never commits", async () => {
    const t = await newTenant();
    const store = fileStore(env, t.id);
    await store.setQuota({ ctx, tenant_id: t.id, quota_bytes: 100 });
    const id = newId();
    const reserve = (bytes: number, fileId = id) =>
      store.reserve({
        tenant_id: t.id,
        id: fileId,
        bytes,
        name: "x",
        content_type: "text/plain",
        created_by: "k",
        now: ctx.now,
      });
    expect(await reserve(60)).toEqual({ ok: true });
    // Two uploads at once cannot both have the last 60 bytes: the second sees the first's reservation.
    expect(await reserve(60, newId())).toEqual({
      ok: false,
      error: "quota_exceeded",
      quota_bytes: 100,
      used_bytes: 60,
    });
    expect(await store.usage({})).toMatchObject({ used_bytes: 60, files: 0 });

    // The Worker streamed the object, then died before committing.
    await env.FILES.put(objectKey(t.id, id), "orphan");
    await fireTimers(t.id);
    expect(await store.usage({})).toMatchObject({ used_bytes: 0, files: 0 });
    expect(await env.FILES.head(objectKey(t.id, id))).toBeNull();
    // A commit after the reservation ended is refused: no file without its bytes.
    expect(await store.commit({ ctx, tenant_id: t.id, id, size: 60, sha256: SHA })).toEqual({
      ok: false,
      error: "expired",
    });
  });

  it("a committed file keeps its bytes past the reservation's end; a removed one loses its object by timer", async () => {
    const t = await newTenant();
    const store = fileStore(env, t.id);
    const id = newId();
    await store.reserve({
      tenant_id: t.id,
      id,
      bytes: 6,
      name: "a",
      content_type: "text/plain",
      created_by: "k",
      now: ctx.now,
    });
    await env.FILES.put(objectKey(t.id, id), "abcdef");
    const committed = await store.commit({ ctx, tenant_id: t.id, id, size: 6, sha256: SHA });
    expect(committed).toMatchObject({ ok: true, file: { id, size: 6, sha256: SHA } });
    await fireTimers(t.id);
    expect(await env.FILES.head(objectKey(t.id, id))).not.toBeNull();
    expect(await store.usage({})).toMatchObject({ used_bytes: 6, files: 1 });

    expect(await store.remove({ ctx, tenant_id: t.id, id })).toEqual({ ok: true });
    await fireTimers(t.id);
    expect(await env.FILES.head(objectKey(t.id, id))).toBeNull();
    expect(await store.usage({})).toMatchObject({ used_bytes: 0, files: 0 });
  });

  it("refuses to serve two tenants from one object", async () => {
    const t = await newTenant();
    await fileStore(env, t.id).setQuota({ ctx, tenant_id: t.id, quota_bytes: null });
    let refused: unknown;
    try {
      await fileStore(env, t.id).setQuota({ ctx, tenant_id: "someone-else", quota_bytes: null });
    } catch (error) {
      refused = error;
    }
    expect(String(refused)).toContain("another tenant");
  });
});

describe("the files projection", () => {
  const tenantId = "tenant-proj";
  const event = (type: string, version: number, data: Record<string, unknown>, id = `e${version}`): Envelope => ({
    id: `${id}-${Math.random()}`,
    type,
    tenant_id: tenantId,
    stream: `${tenantId}/file/F1`,
    version,
    occurred_at: new Date().toISOString(),
    actor: { kind: "user", id: "u1" },
    request_id: null,
    data,
  });
  const uploadedEvent = () =>
    event("files.file.uploaded", 1, {
      file_id: "F1",
      name: "a.txt",
      content_type: "text/plain",
      size: 3,
      sha256: SHA,
      created_at: "2026-01-01T00:00:00.000Z",
    });
  const deletedEvent = () => event("files.file.deleted", 2, { file_id: "F1", size: 3 });
  const row = async () =>
    (
      await drizzle(env.DB)
        .select()
        .from(files)
        .where(and(eq(files.tenant_id, tenantId), eq(files.id, "F1")))
    )[0];

  it("keeps the newest version whatever the order and the repeats: a deletion seen first stays deleted", async () => {
    await deliver(fileProjection, [deletedEvent()]);
    await deliver(fileProjection, [uploadedEvent()]);
    expect(await row()).toMatchObject({ deleted: true, version: 2 });
    await deliver(fileProjection, [uploadedEvent(), deletedEvent(), uploadedEvent()]);
    expect(await row()).toMatchObject({ deleted: true, version: 2 });
  });

  it("fills a row from the upload, with its key under the tenant's prefix", async () => {
    const other = { ...uploadedEvent(), tenant_id: "tenant-two", stream: "tenant-two/file/F1" };
    await deliver(fileProjection, [other, other]);
    const [stored] = await drizzle(env.DB).select().from(files).where(eq(files.tenant_id, "tenant-two"));
    expect(stored).toMatchObject({
      key: "tenant-two/F1",
      name: "a.txt",
      size: 3,
      sha256: SHA,
      created_by: "u1",
      version: 1,
      deleted: false,
    });
  });
});
