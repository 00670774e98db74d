/**
 * The read-model repository suite: every repository plinth's projections and
 * read routes use, run against a database the caller opens. The same cases run
 * on D1 inside workerd (test/read-models/d1.test.ts) and on libSQL in Node
 * (test/node/read-models-libsql.test.ts), so a repository that only works on
 * one of them fails here. Tenants are fresh per case: the databases are shared.
 */
import { and, eq, sql } from "drizzle-orm";
import { blob, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { beforeEach, describe, expect, it } from "vitest";
import { tenantsWithRowsIn } from "../../src/kernel/erasure/tables";
import { catalogPage, catalogWrites } from "../../src/kernel/events/catalog";
import type { Envelope } from "../../src/kernel/events/envelope";
import { PROCESSED_RETENTION_DAYS, processedLedger, seenQuery } from "../../src/kernel/events/ledger";
import { rowKey } from "../../src/kernel/events/projection";
import { tableRows } from "../../src/kernel/events/table-rows";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { commit, type ReadModelDb } from "../../src/kernel/read-models";
import type { AuditEntry } from "../../src/modules/audit/chain";
import { auditEntries, entriesAbout, entryWrites, listEntries } from "../../src/modules/audit/read-model";
import type { PostState } from "../../src/modules/blog/domain";
import { postRows } from "../../src/modules/blog/projection";
import { blogPosts, listPosts } from "../../src/modules/blog/read-model";
import { fileWrites } from "../../src/modules/files/projection";
import { listFiles } from "../../src/modules/files/read-model";
import { rowWrites, uploadedRow } from "../../src/modules/files/rows";

let counter = 0;
/** A name no other case (or earlier run on a kept database) uses. */
const fresh = (prefix: string) => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;

const post = (over: Partial<PostState> = {}): PostState => ({
  status: "draft",
  id: null,
  title: "A title",
  content: "Some content",
  author_id: "u1",
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
  published_at: null,
  ...over,
});

function envelope(over: Partial<Envelope> & Pick<Envelope, "type" | "tenant_id" | "stream" | "version">): Envelope {
  return {
    id: fresh("ev"),
    occurred_at: "2026-03-01T10:00:00.000Z",
    actor: { kind: "user", id: "u1" },
    request_id: null,
    data: {},
    ...over,
  };
}

function entry(seq: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    seq,
    at: `2026-03-01T10:00:${String(seq % 60).padStart(2, "0")}.000Z`,
    actor: { kind: "user", id: seq % 2 === 0 ? "even" : "odd" },
    action: seq % 3 === 0 ? "blog.post.deleted" : "blog.post.created",
    target: `t/post/${seq}`,
    request_id: null,
    ip_hash: null,
    prev_hash: "0".repeat(64),
    hash: seq.toString(16).padStart(64, "0"),
    ...over,
  };
}

/** A state of {@link typedTable}: one column of each kind drizzle maps. */
interface TypedState {
  flag: boolean;
  at: Date | null;
  meta: unknown;
  ratio: number;
  count?: number | null;
  label?: string | null;
  note?: string | null;
}

/** A table whose columns drizzle maps in every way a state row may need (created by the case). */
function typedTable(name: string) {
  return sqliteTable(
    name,
    {
      tenant_id: text("tenant_id").notNull(),
      id: text("id").notNull(),
      version: integer("version").notNull(),
      flag: integer("flag", { mode: "boolean" }).notNull(),
      at: integer("at", { mode: "timestamp_ms" }),
      meta: text("meta", { mode: "json" }),
      ratio: real("ratio").notNull(),
      count: integer("count").default(7),
      label: text("label").$defaultFn(() => "made"),
      note: text("note"),
    },
    (t) => [primaryKey({ columns: [t.tenant_id, t.id] })],
  );
}

const typedDdl = (name: string) =>
  `create table if not exists ${name} (tenant_id text not null, id text not null, version integer not null,
     flag integer not null, "at" integer, meta text, ratio real not null, "count" integer default 7, label text,
     note text, primary key (tenant_id, id))`;

function typedRows(table: ReturnType<typeof typedTable>) {
  return tableRows(table, {
    state: (row): TypedState => row,
    row: (state: TypedState, key) => ({ ...state, id: key.id }),
  });
}

const blobTable = sqliteTable(
  "blob_rows",
  {
    tenant_id: text("tenant_id").notNull(),
    id: text("id").notNull(),
    version: integer("version").notNull(),
    doc: blob("doc", { mode: "json" }),
  },
  (t) => [primaryKey({ columns: [t.tenant_id, t.id] })],
);

/** Runs the suite on the database `open` returns (once per case). */
export function readModelSuite(kind: string, open: () => Promise<ReadModelDb> | ReadModelDb): void {
  let db: ReadModelDb;
  beforeEach(async () => {
    db = await open();
  });

  describe(`read models on ${kind}: state rows (tableRows)`, () => {
    it("stores a state at its version and loads it back by tenant and id", async () => {
      const tenantId = fresh("t");
      await commit(
        db,
        postRows.write(db, [
          { key: { tenantId, id: "p1" }, version: 2, state: post({ title: "Hello", status: "published" }) },
        ]),
      );
      const loaded = await postRows.load(db, [{ tenantId, id: "p1" }]);
      expect(loaded.get(rowKey({ tenantId, id: "p1" }))).toMatchObject({
        version: 2,
        state: { title: "Hello", status: "published", id: "p1" },
      });
      expect(loaded.size).toBe(1);
    });

    it("never moves a row back: an older or equal version leaves it, a newer one replaces it", async () => {
      const tenantId = fresh("t");
      const key = { tenantId, id: "p1" };
      const at = (version: number, title: string) => postRows.write(db, [{ key, version, state: post({ title }) }]);
      await commit(db, at(3, "three"));
      await commit(db, at(2, "two"));
      await commit(db, at(3, "three again"));
      expect((await postRows.load(db, [key])).get(rowKey(key))).toMatchObject({
        version: 3,
        state: { title: "three" },
      });
      await commit(db, at(4, "four"));
      expect((await postRows.load(db, [key])).get(rowKey(key))).toMatchObject({ version: 4, state: { title: "four" } });
    });

    it("keeps tenants apart: the same id in two tenants is two rows, each loaded under its own tenant", async () => {
      const [a, b] = [fresh("ta"), fresh("tb")];
      await commit(
        db,
        postRows.write(db, [
          { key: { tenantId: a, id: "same" }, version: 1, state: post({ title: "of a" }) },
          { key: { tenantId: b, id: "same" }, version: 1, state: post({ title: "of b" }) },
        ]),
      );
      const onlyA = await postRows.load(db, [{ tenantId: a, id: "same" }]);
      expect([...onlyA.values()].map((r) => r.state.title)).toEqual(["of a"]);
      const both = await postRows.load(db, [
        { tenantId: a, id: "same" },
        { tenantId: b, id: "same" },
      ]);
      expect(both.get(rowKey({ tenantId: b, id: "same" }))?.state.title).toBe("of b");
    });

    it("writes many rows in one statement, guarding each by its own version", async () => {
      const tenantId = fresh("t");
      const key = (id: string) => ({ tenantId, id });
      const at = (id: string, version: number, title: string) => ({ key: key(id), version, state: post({ title }) });
      await commit(db, postRows.write(db, [at("old", 5, "old five"), at("new", 1, "new one")]));
      const writes = postRows.write(db, [
        at("old", 4, "old four"), // older than the stored row: left alone
        at("new", 2, "new two"), // newer: replaces it
        at("absent", 1, "absent one"), // no row yet: inserted
      ]);
      expect(writes).toHaveLength(1);
      await commit(db, writes);
      const loaded = await postRows.load(db, [key("old"), key("new"), key("absent")]);
      expect(Object.fromEntries([...loaded].map(([k, r]) => [k, [r.version, r.state.title]]))).toEqual({
        [rowKey(key("old"))]: [5, "old five"],
        [rowKey(key("new"))]: [2, "new two"],
        [rowKey(key("absent"))]: [1, "absent one"],
      });
    });

    it("stores every column a row gives, and keeps a nullable column a later row clears", async () => {
      const tenantId = fresh("t");
      const k = { tenantId, id: "p1" };
      const published = post({ status: "published", published_at: "2026-02-01T00:00:00.000Z" });
      await commit(db, postRows.write(db, [{ key: k, version: 1, state: published }]));
      await commit(
        db,
        postRows.write(db, [{ key: k, version: 2, state: { ...published, status: "draft", published_at: null } }]),
      );
      expect((await postRows.load(db, [k])).get(rowKey(k))).toMatchObject({
        version: 2,
        state: { status: "draft", published_at: null },
      });
    });

    it("refuses a row field its table has no column for, naming both, rather than drop it unseen", async () => {
      // A field added to the state (a decider's completed_at, say) but not to read-model.ts: dropped,
      // the row would read back without it and fail its state schema far from here (a list's 500).
      type Coloured = PostState & { colour: string; due_at?: string };
      const coloured = tableRows(blogPosts, {
        state: (row): Coloured => ({ ...row, colour: "" }),
        row: (state: Coloured, key) => ({
          ...state,
          id: key.id,
          author_id: state.author_id ?? "",
          created_at: state.created_at ?? "",
          updated_at: state.updated_at ?? "",
        }),
      });
      const k = { tenantId: fresh("t"), id: "p1" };
      expect(() => coloured.write(db, [{ key: k, version: 1, state: { ...post(), colour: "red" } }])).toThrow(
        "blog_posts has no column for the row's colour: add it to the table (read-model.ts, then a migration) or leave it out of row()",
      );
      // A field named as an Object prototype member is no column either (`in` saw one: constructor, toString).
      const named = tableRows(blogPosts, {
        state: (row) => row,
        row: (state: PostState, key) => ({
          ...state,
          id: key.id,
          author_id: state.author_id ?? "",
          created_at: state.created_at ?? "",
          updated_at: state.updated_at ?? "",
          constructor: "x",
        }),
      });
      expect(() => named.write(db, [{ key: k, version: 1, state: post() }])).toThrow(
        "blog_posts has no column for the row's constructor",
      );
      // A field the row leaves undefined stores nothing, as before.
      const { colour: _colour, ...plain } = { ...post(), colour: "red" };
      await commit(
        db,
        postRows.write(db, [{ key: k, version: 1, state: { ...plain, due_at: undefined } as PostState }]),
      );
      expect((await postRows.load(db, [k])).get(rowKey(k))?.version).toBe(1);
    });

    it("stores every column type as drizzle itself binds it (booleans, timestamps, JSON, reals, defaults, nulls)", async () => {
      const [viaRows, viaDrizzle] = [typedTable("typed_rows_a"), typedTable("typed_rows_b")];
      for (const name of ["typed_rows_a", "typed_rows_b"]) await db.run(sql.raw(typedDdl(name)));
      const tenantId = fresh("t");
      const rows = typedRows(viaRows);
      const states: TypedState[] = [
        {
          flag: true,
          at: new Date("2026-03-01T10:00:00.123Z"),
          meta: { a: [1, 2], s: 'q"uote' },
          ratio: 0.25,
          note: "é ✓",
        },
        { flag: false, at: null, meta: null, ratio: 3, count: 0, label: "given" },
      ];
      await commit(
        db,
        rows.write(
          db,
          states.map((state, i) => ({ key: { tenantId, id: `r${i}` }, version: 1, state })),
        ),
      );
      await db
        .insert(viaDrizzle)
        .values(states.map((state, i) => ({ ...state, tenant_id: tenantId, id: `r${i}`, version: 1 })));
      const stored = (name: string) =>
        db.all(
          sql`select id, typeof(flag) tf, flag, typeof("at") ta, "at", typeof(meta) tm, meta, typeof(ratio) tr, ratio,
                typeof("count") tc, "count", label, typeof(note) tn, note
              from ${sql.identifier(name)} where tenant_id = ${tenantId} order by id`,
        );
      const reference = await stored("typed_rows_b");
      expect(reference).toHaveLength(2);
      expect(await stored("typed_rows_a")).toEqual(reference);
      const loaded = await rows.load(db, [{ tenantId, id: "r0" }]);
      expect(loaded.get(rowKey({ tenantId, id: "r0" }))?.state).toMatchObject({ flag: true, meta: { a: [1, 2] } });
    });

    it("leaves a column a newer row does not give as stored (it is not in the update), and fills it on insert", async () => {
      await db.run(sql.raw(typedDdl("typed_rows_a")));
      const rows = typedRows(typedTable("typed_rows_a"));
      const tenantId = fresh("t");
      const k = { tenantId, id: "r1" };
      const base: TypedState = { flag: true, at: null, meta: null, ratio: 1 };
      await commit(db, rows.write(db, [{ key: k, version: 1, state: { ...base, note: "kept", count: 3 } }]));
      await commit(db, rows.write(db, [{ key: k, version: 2, state: { ...base, ratio: 2 } }]));
      const fresh2 = { tenantId, id: "r2" };
      await commit(db, rows.write(db, [{ key: fresh2, version: 1, state: base }]));
      const loaded = await rows.load(db, [k, fresh2]);
      expect(loaded.get(rowKey(k))).toMatchObject({ version: 2, state: { ratio: 2, note: "kept", count: 3 } });
      expect(loaded.get(rowKey(fresh2))?.state).toMatchObject({ note: null, count: 7, label: "made" });
    });

    it("splits rows whose JSON is large over several statements, and stores each whole", async () => {
      await db.run(sql.raw(typedDdl("typed_rows_a")));
      const rows = typedRows(typedTable("typed_rows_a"));
      const tenantId = fresh("t");
      const big = (c: string) => c.repeat(200_000);
      const states = ["a", "b", "c"].map((c, i) => ({
        key: { tenantId, id: `big${i}` },
        version: 1,
        state: { flag: false, at: null, meta: null, ratio: 0, note: big(c) },
      }));
      const small = {
        key: { tenantId, id: "small" },
        version: 1,
        state: { flag: true, at: null, meta: null, ratio: 1, note: "s" },
      };
      const writes = rows.write(db, [...states, small]);
      // ~200 KB of JSON each: one row per statement, and the small row joins the last.
      expect(writes).toHaveLength(3);
      await commit(db, writes);
      const loaded = await rows.load(db, [...states.map((s) => s.key), small.key]);
      expect(states.map((s) => loaded.get(rowKey(s.key))?.state.note)).toEqual([big("a"), big("b"), big("c")]);
      expect(loaded.get(rowKey(small.key))?.state.flag).toBe(true);
    });

    it("binds a value JSON cannot carry (a blob) one parameter per value, with the same guard", async () => {
      await db.run(
        sql.raw(
          "create table if not exists blob_rows (tenant_id text not null, id text not null, version integer not null, doc blob, primary key (tenant_id, id))",
        ),
      );
      const rows = tableRows(blobTable, {
        state: (row) => ({ doc: row.doc }),
        row: (state: { doc: unknown }, key) => ({ doc: state.doc, id: key.id }),
      });
      const tenantId = fresh("t");
      const k = { tenantId, id: "b1" };
      await commit(db, rows.write(db, [{ key: k, version: 2, state: { doc: { n: 2 } } }]));
      await commit(db, rows.write(db, [{ key: k, version: 1, state: { doc: { n: 1 } } }]));
      expect((await rows.load(db, [k])).get(rowKey(k))).toEqual({ version: 2, state: { doc: { n: 2 } } });
    });

    it("writes nothing for no states", () => {
      expect(postRows.write(db, [])).toEqual([]);
    });

    it("loads more ids than D1 binds parameters, for several tenants in one batch", async () => {
      const [a, b] = [fresh("ta"), fresh("tb")];
      const keys = [
        ...Array.from({ length: 130 }, (_, i) => ({ tenantId: a, id: `p${i}` })),
        { tenantId: b, id: "p0" },
      ];
      const writes = postRows.write(
        db,
        keys.map((key) => ({ key, version: 1, state: post({ title: key.id }) })),
      );
      // A hundred rows per statement, each statement's rows one JSON parameter: 131 rows are 2 statements.
      expect(writes).toHaveLength(2);
      await commit(db, writes);
      const loaded = await postRows.load(db, [...keys, { tenantId: a, id: "missing" }]);
      expect(loaded.size).toBe(131);
      expect(loaded.get(rowKey({ tenantId: a, id: "p129" }))?.state.title).toBe("p129");
    });
  });

  describe(`read models on ${kind}: one transaction per batch`, () => {
    it("commits a batch's writes and ledger marks all or nothing: a failing statement leaves neither", async () => {
      const tenantId = fresh("t");
      const consumer = fresh("test:");
      const ledger = processedLedger(db);
      const [write] = postRows.write(db, [{ key: { tenantId, id: "p1" }, version: 1, state: post() }]);
      if (!write) throw new Error("no write");
      const duplicate = { ...entryRow(tenantId, 1) };
      // The second plain insert of the same (tenant_id, seq) violates the primary key.
      const failing = [
        write,
        ...ledger.marks(consumer, ["e1"], new Date("2026-03-01T00:00:00Z")),
        db.insert(auditEntries).values(duplicate),
        db.insert(auditEntries).values(duplicate),
      ];
      let failed = false;
      try {
        await commit(db, failing);
      } catch {
        failed = true;
      }
      expect(failed).toBe(true);
      expect((await postRows.load(db, [{ tenantId, id: "p1" }])).size).toBe(0);
      expect(await ledger.seen(consumer, "e1")).toBe(false);
      expect(await listEntries(db, { tenantId, limit: 10 })).toEqual([]);

      await commit(db, failing.slice(0, 3));
      expect((await postRows.load(db, [{ tenantId, id: "p1" }])).size).toBe(1);
      expect(await ledger.seen(consumer, "e1")).toBe(true);
    });

    it("commits a batch's writes only with claims of events not recorded: one recorded since leaves neither", async () => {
      const tenantId = fresh("t");
      const consumer = fresh("test:");
      const ledger = processedLedger(db);
      const now = new Date("2026-03-01T00:00:00Z");
      const [write] = postRows.write(db, [{ key: { tenantId, id: "p1" }, version: 1, state: post() }]);
      if (!write) throw new Error("no write");
      // Another path recorded e2 after this one read the ledger.
      await commit(db, ledger.marks(consumer, ["e2"], now));
      await expect(commit(db, [write, ...ledger.claims(consumer, ["e1", "e2"], now)])).rejects.toThrow();
      expect((await postRows.load(db, [{ tenantId, id: "p1" }])).size).toBe(0);
      expect(await ledger.seen(consumer, "e1")).toBe(false);
      // A batch that names an event twice claims it once.
      await commit(db, [write, ...ledger.claims(consumer, ["e1", "e1"], now)]);
      expect((await postRows.load(db, [{ tenantId, id: "p1" }])).size).toBe(1);
      expect(await ledger.seen(consumer, "e1")).toBe(true);
    });

    it("does nothing for an empty batch, and says it changed nothing", async () => {
      await expect(commit(db, [])).resolves.toBe(0);
    });
  });

  describe(`read models on ${kind}: the processed-events ledger`, () => {
    it("records a batch's marks in one statement and answers which (consumer, event) pairs it has, for a whole queue batch of ids", async () => {
      const [c1, c2, c3] = [fresh("m:"), fresh("m:"), fresh("m:")];
      // More ids than D1 binds parameters, and than a consumer batch of packs carries (50 × 25).
      const ids = Array.from({ length: 1_300 }, (_, i) => fresh(`e${i}-`));
      const ledger = processedLedger(db);
      const now = new Date("2026-03-01T00:00:00Z");
      const marks = ledger.marks(c1, ids, now);
      expect(marks).toHaveLength(1);
      expect(ledger.marks(c1, [], now)).toEqual([]);
      await commit(db, [...marks, ...ledger.marks(c2, ids.slice(0, 5), now)]);
      // A repeat is no conflict, and a batch naming an id twice records it once.
      await commit(db, ledger.marks(c1, [...ids.slice(0, 40), ids[0] ?? ""], now));
      const seen = await ledger.seenMany([c1, c2, c3], [...ids, "never"]);
      expect(seen.size).toBe(1_305);
      expect(seen.has(`${c1}\u0000${ids[1_299]}`)).toBe(true);
      expect(seen.has(`${c2}\u0000${ids[4]}`)).toBe(true);
      expect(seen.has(`${c2}\u0000${ids[5]}`)).toBe(false);
      // Only the consumers asked about: c2's marks are not c1's.
      const onlyC2 = await ledger.seenMany([c2], ids);
      expect([...onlyC2].sort()).toEqual(
        ids
          .slice(0, 5)
          .map((id) => `${c2}\u0000${id}`)
          .sort(),
      );
      expect(await ledger.seenMany([], ids)).toEqual(new Set());
      expect(await ledger.seenMany([c1], [])).toEqual(new Set());
      expect(await ledger.seen(c2, ids[4] ?? "")).toBe(true);
      const stored = await db.all<{ n: number }>(
        sql`select count(*) as n from processed_events where consumer = ${c1}`,
      );
      expect(stored[0]?.n).toBe(1_300);
    });

    it("splits a replay's many ids over statements of 10,000: all are recorded and all are found", async () => {
      const consumer = fresh("r:");
      const ids = Array.from({ length: 25_000 }, (_, i) => `${consumer}-${i}`);
      const ledger = processedLedger(db);
      const marks = ledger.marks(consumer, ids, new Date("2026-03-01T00:00:00Z"));
      expect(marks).toHaveLength(3);
      await commit(db, marks);
      const seen = await ledger.seenMany([consumer], [...ids, "never"]);
      expect(seen.size).toBe(25_000);
      expect(seen.has(`${consumer}\u0000${ids[24_999]}`)).toBe(true);
    });

    it("looks a batch's ids up in the primary key, never by scanning the ledger (it holds 15 days of events)", async () => {
      const query = seenQuery(db, ["blog:posts", "audit:log"], ["e1", "e2"]).getSQL();
      const plan = await db.all<{ detail: string }>(sql`explain query plan ${query}`);
      const details = plan.map((row) => row.detail);
      expect(details.some((d) => /^SEARCH processed_events USING .*\(consumer=\? AND event_id=\?\)/.test(d))).toBe(
        true,
      );
      expect(details.filter((d) => /SCAN processed_events/.test(d))).toEqual([]);
    });

    it("purges ids older than the retention and counts what it removed", async () => {
      const consumer = fresh("purge:");
      const ledger = processedLedger(db);
      const now = new Date("2030-06-15T00:00:00Z");
      const old = new Date(now.getTime() - (PROCESSED_RETENTION_DAYS + 1) * 86_400_000);
      const recent = new Date(now.getTime() - (PROCESSED_RETENTION_DAYS - 1) * 86_400_000);
      await ledger.mark(consumer, "old-1", old);
      await ledger.mark(consumer, "old-2", old);
      await ledger.mark(consumer, "recent", recent);
      // Earlier cases' marks are older still and go too: at least these two.
      expect(await ledger.purge(now)).toBeGreaterThanOrEqual(2);
      expect(await ledger.seen(consumer, "old-1")).toBe(false);
      expect(await ledger.seen(consumer, "recent")).toBe(true);
      expect(await ledger.purge(now)).toBe(0);
    });
  });

  describe(`read models on ${kind}: the stream catalog`, () => {
    it("records a batch's streams in a statement per hundred, each at its newest version", async () => {
      const tenant = fresh("tc");
      const at = new Date("2026-03-01T00:00:00Z");
      const ev = (i: number, version: number) =>
        envelope({ type: "blog.post.updated", tenant_id: tenant, stream: `${tenant}/post/p${i}`, version });
      const events = Array.from({ length: 150 }, (_, i) => [ev(i, 2), ev(i, 1)]).flat();
      const writes = catalogWrites(db, events, at);
      expect(writes).toHaveLength(2);
      await commit(db, writes);
      // A late batch with older versions moves nothing back.
      await commit(db, catalogWrites(db, [ev(0, 1), ev(149, 1)], at));
      const page = await catalogPage(db, { types: ["post"], tenantId: tenant, limit: 500 });
      expect(page).toHaveLength(150);
      expect(page.every((s) => s.version === 2 && s.type === "post" && s.tenantId === tenant)).toBe(true);
    });

    it("keeps each stream at the newest version seen, whatever the order, and pages by type, tenant and cursor", async () => {
      const [a, b] = [fresh("ta"), fresh("tb")];
      const at = new Date("2026-03-01T00:00:00Z");
      const ev = (tenant: string, stream: string, version: number) =>
        envelope({ type: "blog.post.updated", tenant_id: tenant, stream: `${tenant}/${stream}`, version });
      await commit(db, catalogWrites(db, [ev(a, "post/p1", 3), ev(a, "post/p1", 1), ev(a, "post/p2", 1)], at));
      await commit(db, catalogWrites(db, [ev(a, "post/p1", 2), ev(b, "post/p1", 5), ev(a, "keys", 7)], at));
      const posts = await catalogPage(db, { types: ["post"], tenantId: a, limit: 10 });
      expect(posts).toEqual([
        { stream: `${a}/post/p1`, tenantId: a, type: "post", version: 3 },
        { stream: `${a}/post/p2`, tenantId: a, type: "post", version: 1 },
      ]);
      const next = await catalogPage(db, { types: ["post", "keys"], tenantId: a, after: `${a}/keys`, limit: 1 });
      expect(next.map((s) => s.stream)).toEqual([`${a}/post/p1`]);
      const ofB = await catalogPage(db, { types: ["post"], tenantId: b, limit: 10 });
      expect(ofB.map((s) => s.version)).toEqual([5]);
    });
  });

  describe(`read models on ${kind}: the blog's post list`, () => {
    it("lists a tenant's live posts newest id first, filters by status and author, and pages by cursor", async () => {
      const [tenantId, other] = [fresh("t"), fresh("o")];
      const rows = [
        ["p1", post({ status: "published", author_id: "ann" })],
        ["p2", post({ status: "draft", author_id: "bob" })],
        ["p3", post({ status: "deleted", author_id: "ann" })],
        ["p4", post({ status: "published", author_id: "bob" })],
      ] as const;
      const keyed = [
        ...rows.map(([id, state]) => ({ tenantId, id, state })),
        { tenantId: other, id: "p9", state: post() },
      ];
      await commit(
        db,
        postRows.write(
          db,
          keyed.map(({ state, ...key }) => ({ key, version: 1, state })),
        ),
      );
      const ids = async (f: Partial<Parameters<typeof listPosts>[1]>) =>
        (await listPosts(db, { tenantId, limit: 10, ...f })).map((r) => r.id);
      expect(await ids({})).toEqual(["p4", "p2", "p1"]);
      expect(await ids({ status: "deleted" })).toEqual(["p3"]);
      expect(await ids({ authorId: "bob" })).toEqual(["p4", "p2"]);
      expect(await ids({ limit: 2 })).toEqual(["p4", "p2"]);
      expect(await ids({ cursor: "p2" })).toEqual(["p1"]);
    });
  });

  describe(`read models on ${kind}: the audit entries`, () => {
    it("copies a whole consumer batch of entries in a statement per hundred, each exactly as given", async () => {
      const tenantId = fresh("t");
      const entries = Array.from({ length: 250 }, (_, i) =>
        entry(i + 1, i === 7 ? { detail: { fields: ["title"], quote: 'a "b" é' }, request_id: "r-8" } : {}),
      );
      const writes = entryWrites(db, tenantId, entries);
      expect(writes).toHaveLength(3);
      await commit(db, writes);
      await commit(db, entryWrites(db, tenantId, entries.slice(90, 110)));
      const stored = await listEntries(db, { tenantId, limit: 300 });
      expect(stored.map((r) => r.seq)).toEqual(entries.map((e) => e.seq).reverse());
      const eighth = stored.find((r) => r.seq === 8);
      expect(eighth).toMatchObject({ requestId: "r-8", ipHash: null, actorKind: "user" });
      expect(JSON.parse(eighth?.detail ?? "null")).toEqual({ fields: ["title"], quote: 'a "b" é' });
      expect(stored.find((r) => r.seq === 9)?.detail).toBeNull();
    });

    it("copies entries once (a repeat is a no-op) and filters by actor, action, time and seq, newest first", async () => {
      const tenantId = fresh("t");
      const entries = Array.from({ length: 12 }, (_, i) => entry(i + 1));
      await commit(db, entryWrites(db, tenantId, entries));
      await commit(db, entryWrites(db, tenantId, entries.slice(0, 5)));
      const seqs = async (f: Partial<Parameters<typeof listEntries>[1]>) =>
        (await listEntries(db, { tenantId, limit: 50, ...f })).map((r) => r.seq);
      expect(await seqs({})).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect(await seqs({ actorId: "even", action: "blog.post.deleted" })).toEqual([12, 6]);
      expect(await seqs({ since: "2026-03-01T10:00:03.000Z", until: "2026-03-01T10:00:05.000Z" })).toEqual([5, 4, 3]);
      expect(await seqs({ before: 4, limit: 2 })).toEqual([3, 2]);
      expect(await seqs({ tenantId: fresh("none") })).toEqual([]);
    });

    it("rewrites only a row that drifted from its entry, and counts only that change", async () => {
      // What a rebuild from the chains relies on: over an intact copy it changes nothing.
      const tenantId = fresh("t");
      const entries = Array.from({ length: 6 }, (_, i) => entry(i + 1, i === 2 ? { detail: { role: "editor" } } : {}));
      expect(await commit(db, entryWrites(db, tenantId, entries))).toBe(6);
      const copied = await listEntries(db, { tenantId, limit: 10 });
      expect(await commit(db, entryWrites(db, tenantId, entries))).toBe(0);
      await db
        .update(auditEntries)
        .set({ action: "edited", detail: null })
        .where(and(eq(auditEntries.tenantId, tenantId), eq(auditEntries.seq, 3)));
      expect(await commit(db, entryWrites(db, tenantId, entries))).toBe(1);
      expect(await listEntries(db, { tenantId, limit: 10 })).toEqual(copied);
    });

    it("finds the entries about a user by target, newest first, but their own acts and other tenants'", async () => {
      const tenantId = fresh("t");
      const other = fresh("t");
      const about = `${tenantId}/user/u1`;
      const entries = [
        entry(1, { actor: { kind: "anonymous", id: null }, target: about }),
        entry(2, { actor: { kind: "user", id: "u1" }, target: about }),
        entry(3, { actor: { kind: "api_key", id: "u1" }, target: about }),
        entry(4, { actor: { kind: "user", id: "admin" }, target: about }),
        entry(5, { actor: { kind: "user", id: "admin" }, target: `${tenantId}/user/u2` }),
        entry(6, { actor: { kind: "user", id: "admin" }, target: about }),
      ];
      await commit(db, entryWrites(db, tenantId, entries));
      await commit(db, entryWrites(db, other, [entry(7, { actor: { kind: "user", id: "admin" }, target: about })]));
      const seqs = async (limit: number) =>
        (await entriesAbout(db, { tenantId, target: about, notActorId: "u1", limit })).map((r) => r.seq);
      expect(await seqs(10)).toEqual([6, 4, 3, 1]);
      expect(await seqs(2)).toEqual([6, 4]);
    });

    it("keeps an entry's detail as JSON and its absence as null", async () => {
      const tenantId = fresh("t");
      await commit(db, entryWrites(db, tenantId, [entry(1, { detail: { permission: "blog.post.delete" } }), entry(2)]));
      const rows = await listEntries(db, { tenantId, limit: 5 });
      expect(rows.map((r) => r.detail)).toEqual([null, JSON.stringify({ permission: "blog.post.delete" })]);
    });
  });

  describe(`read models on ${kind}: the files list`, () => {
    it("writes a rebuild's page of stored files in a statement per hundred, and a tombstone stays", async () => {
      const tenantId = fresh("t");
      const stored = Array.from({ length: 250 }, (_, i) => ({
        id: `f${String(i).padStart(3, "0")}`,
        name: `n${i}.txt`,
        content_type: "text/plain",
        size: i,
        sha256: "ab",
        created_by: "u1",
        created_at: "2026-03-01T10:00:00.000Z",
      }));
      await commit(
        db,
        fileWrites(db, [
          envelope({
            type: "files.file.deleted",
            tenant_id: tenantId,
            stream: `${tenantId}/file/f007`,
            version: 2,
            data: { file_id: "f007", size: 7 },
          }),
        ]),
      );
      const writes = rowWrites(
        db,
        stored.map((f) => uploadedRow(tenantId, f)),
      );
      expect(writes).toHaveLength(3);
      expect(await commit(db, writes)).toBe(249);
      const live = await listFiles(db, { tenantId, limit: 300 });
      expect(live).toHaveLength(249);
      expect(live.find((f) => f.id === "f007")).toBeUndefined();
      expect(live.find((f) => f.id === "f008")).toMatchObject({ name: "n8.txt", size: 8, version: 1, deleted: false });
      expect(await commit(db, writes)).toBe(0);
    });

    it("shows uploads and hides deletions whatever order they arrive in, per tenant, newest id first", async () => {
      const [tenantId, other] = [fresh("t"), fresh("o")];
      const uploaded = (tenant: string, id: string) =>
        envelope({
          type: "files.file.uploaded",
          tenant_id: tenant,
          stream: `${tenant}/file/${id}`,
          version: 1,
          data: {
            file_id: id,
            name: `${id}.txt`,
            content_type: "text/plain",
            size: 3,
            sha256: "ab",
            created_at: "2026-03-01T10:00:00.000Z",
          },
        });
      const deleted = (tenant: string, id: string) =>
        envelope({
          type: "files.file.deleted",
          tenant_id: tenant,
          stream: `${tenant}/file/${id}`,
          version: 2,
          data: { file_id: id, size: 3 },
        });
      // The deletion of f2 arrives before its upload: the tombstone must win.
      await commit(db, fileWrites(db, [deleted(tenantId, "f2"), uploaded(tenantId, "f1"), uploaded(other, "f9")]));
      await commit(db, fileWrites(db, [uploaded(tenantId, "f2"), uploaded(tenantId, "f3"), uploaded(tenantId, "f1")]));
      const names = async (f: { cursor?: string; limit?: number } = {}) =>
        (await listFiles(db, { tenantId, limit: 10, ...f })).map((r) => r.name);
      expect(await names()).toEqual(["f3.txt", "f1.txt"]);
      expect(await names({ limit: 1 })).toEqual(["f3.txt"]);
      expect(await names({ cursor: "f3" })).toEqual(["f1.txt"]);
      const row = (await listFiles(db, { tenantId, limit: 10 }))[0];
      expect(row).toMatchObject({ tenant_id: tenantId, key: `${tenantId}/f3`, size: 3, deleted: false, version: 1 });
    });
  });

  describe(`read models on ${kind}: an erased tenant's rows left (tenantsWithRowsIn)`, () => {
    it("names, of the tenants asked about, those with a row in any declared tenant table, in one batch", async () => {
      const [left, clean, other] = [fresh("te"), fresh("tc"), fresh("to")];
      const blog: ModuleDef = { name: "blog", version: "1.0.0", tables: { posts: blogPosts } };
      await commit(
        db,
        postRows.write(db, [
          { key: { tenantId: left, id: "p1" }, version: 1, state: post() },
          { key: { tenantId: other, id: "p1" }, version: 1, state: post() },
        ]),
      );
      // The kernel's tables (the stream catalog among them) are asked too.
      await commit(
        db,
        catalogWrites(
          db,
          [envelope({ type: "blog.post.created", tenant_id: clean, stream: `${clean}/post/p1`, version: 1 })],
          new Date(),
        ),
      );
      expect(await tenantsWithRowsIn(db, [blog], [left, clean, fresh("tn")])).toEqual(new Set([left, clean]));
      expect(await tenantsWithRowsIn(db, [blog], [])).toEqual(new Set());
    });
  });

  describe(`read models on ${kind}: raw answers`, () => {
    it("answers a trivial query (the readiness probe's)", async () => {
      expect(await db.get<{ one: number }>(sql`select 1 as one`)).toEqual({ one: 1 });
    });
  });
}

function entryRow(tenantId: string, seq: number) {
  return {
    tenantId,
    seq,
    at: "2026-03-01T10:00:00.000Z",
    actorKind: "user",
    actorId: "u1",
    action: "blog.post.created",
    target: null,
    requestId: null,
    ipHash: null,
    detail: null,
    prevHash: "0".repeat(64),
    hash: "1".repeat(64),
  };
}
