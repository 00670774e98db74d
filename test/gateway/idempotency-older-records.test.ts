// An IdempotencyStore's records outlive a deploy: a client retrying, under the same key, a POST
// a deploy before 227ed411 answered finds a record whose fingerprint is the plain SHA-256 that
// code kept. Storage here is built with that code's statements (durable-objects/idempotency-store.ts
// and src/kernel/idempotency/middleware.ts at 227ed411^; the same since b337b523).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { sha256Hex } from "../../src/kernel/crypto";
import { gateway } from "./helpers";

const PATH = "/api/v1/blog/posts";

/** The record as the code before 227ed411 stored it: begin's insert, then complete's update. */
function storeOldRecord(
  state: DurableObjectState,
  record: { key: string; fingerprint: string; response: string; now: number },
): void {
  const sql = state.storage.sql;
  // migrateSqlite(ctx.storage, SCHEMA), run by that code's constructor.
  sql.exec("create table if not exists _schema (version integer not null)");
  sql.exec(`create table records (
       key text primary key,
       fingerprint text not null,
       state text not null,
       response text,
       lease_until integer not null,
       expires_at integer not null
     )`);
  sql.exec("create index records_expires on records (expires_at)");
  sql.exec("insert into _schema (version) values (?)", 1);
  sql.exec(
    `insert into records (key, fingerprint, state, response, lease_until, expires_at) values (?, ?, 'pending', null, ?, ?)
       on conflict(key) do update set state = 'pending', response = null, lease_until = excluded.lease_until`,
    record.key,
    record.fingerprint,
    record.now + 60_000,
    record.now + 60_000,
  );
  sql.exec(
    "update records set state = 'done', response = ?, expires_at = ? where key = ?",
    record.response,
    record.now + 86_400_000,
    record.key,
  );
}

describe("Idempotency-Key over records an older deploy kept", () => {
  it("replays a response whose record holds the plain fingerprint of before 227ed411, and refuses another body", async () => {
    const clock = manualClock("2031-03-01T00:00:00.000Z");
    const { call, tenant } = gateway({}, {}, clock);
    const t = await tenant();
    const me = await call("/api/v1/me", { token: t.adminKey });
    const scope = `${t.id}:api_key:${String((me.body.key as { id: string }).id)}`;
    const body = { title: "Sent before the deploy", content: "once" };
    // The first request, answered by the older deploy: its post exists, its response was kept.
    const first = await call(PATH, { token: t.adminKey, body });
    expect(first.status).toBe(201);
    const response = JSON.stringify({
      status: 201,
      headers: {
        "content-type": first.headers.get("content-type") ?? "",
        etag: first.headers.get("etag") ?? "",
        location: first.headers.get("location") ?? "",
      },
      body: JSON.stringify(first.body),
      secret: false,
    });
    const text = JSON.stringify(body);
    // That code's fingerprint: sha256Hex(`${method}\n${path}\n${hex sha256 of the body}`).
    const plain = await sha256Hex(`POST\n${PATH}\n${await sha256Hex(text)}`);
    const stub = env.IDEMPOTENCY.getByName(scope);
    await runInDurableObject(stub, (_, state) =>
      storeOldRecord(state, { key: `POST ${PATH} old-1`, fingerprint: plain, response, now: clock.now().getTime() }),
    );

    // Deployed: the client retries within the 24 h.
    clock.advance(3_600_000);
    const again = await call(PATH, { token: t.adminKey, body, headers: { "idempotency-key": "old-1" } });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    // The plain hash (which a reader of the store could try passwords against) is no longer kept.
    const kept = await runInDurableObject(stub, (_, state) =>
      state.storage.sql.exec<{ fingerprint: string }>("select fingerprint from records").toArray(),
    );
    expect(kept).toHaveLength(1);
    expect(kept[0]?.fingerprint).not.toBe(plain);
    // Still the same request's record: a repeat replays, another body under the key is refused.
    const third = await call(PATH, { token: t.adminKey, body, headers: { "idempotency-key": "old-1" } });
    expect(third.headers.get("idempotent-replayed")).toBe("true");
    const other = await call(PATH, {
      token: t.adminKey,
      body: { title: "Another", content: "body" },
      headers: { "idempotency-key": "old-1" },
    });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("idempotency_key_reused");
  });

  it("refuses another body under a key whose record holds an older deploy's plain fingerprint", async () => {
    const clock = manualClock("2031-03-01T00:00:00.000Z");
    const { call, tenant } = gateway({}, {}, clock);
    const t = await tenant();
    const me = await call("/api/v1/me", { token: t.adminKey });
    const scope = `${t.id}:api_key:${String((me.body.key as { id: string }).id)}`;
    const plain = await sha256Hex(`POST\n${PATH}\n${await sha256Hex(JSON.stringify({ title: "A", content: "a" }))}`);
    const response = JSON.stringify({ status: 201, headers: {}, body: "{}", secret: false });
    await runInDurableObject(env.IDEMPOTENCY.getByName(scope), (_, state) =>
      storeOldRecord(state, { key: `POST ${PATH} old-2`, fingerprint: plain, response, now: clock.now().getTime() }),
    );
    const other = await call(PATH, {
      token: t.adminKey,
      body: { title: "B", content: "b" },
      headers: { "idempotency-key": "old-2" },
    });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("idempotency_key_reused");
  });
});
