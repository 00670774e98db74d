/**
 * The API keys of one tenant: created, listed, verified and touched, and
 * revoked with every key minted from them. Credentials (credentials.ts)
 * extends it with the tenant's refresh-token families and one-time tokens.
 */
import { storedJson } from "../../../kernel/db/stored-json";
import type { Origin } from "../../../kernel/events/origin";
import { type KeyCap, withheldScopes } from "../key-reach";
import { keyCaps } from "./key-chain";
import type { DirectoryStore } from "./store";
import { fail, type KeyView, ok, type Result, Strings, type VerifiedKey } from "./types";

interface KeyRow extends Record<string, SqlStorageValue> {
  id: string;
  name: string;
  prefix: string;
  scopes: string;
  expires_at: string | null;
  created_at: string;
  created_by: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

const keyView = (r: KeyRow): KeyView => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  scopes: Strings.parse(storedJson(r.scopes, `api key ${r.id} scopes`)),
  expires_at: r.expires_at,
  created_at: r.created_at,
  created_by: r.created_by,
  last_used_at: r.last_used_at,
});

/** API keys of one tenant, in the directory's SQLite storage. */
export class ApiKeys {
  constructor(protected readonly store: DirectoryStore) {}

  protected get sql() {
    return this.store.sql;
  }

  createKey(
    ctx: Origin,
    key: { id: string; name: string; prefix: string; hash: string; scopes: string[]; expiresAt: string | null },
  ): KeyView {
    this.store.tx(() => {
      this.sql.exec(
        `insert into api_keys (id, name, prefix, key_hash, scopes, expires_at, created_at, created_by)
         values (?, ?, ?, ?, ?, ?, ?, ?)`,
        key.id,
        key.name,
        key.prefix,
        key.hash,
        JSON.stringify(key.scopes),
        key.expiresAt,
        ctx.now,
        ctx.actor.id,
      );
      const { id: key_id, name, prefix, scopes, expiresAt: expires_at } = key;
      this.store.emit(ctx, `key/${key.id}`, {
        type: "identity.key.created",
        data: { key_id, name, prefix, scopes, expires_at },
      });
    });
    // Read back what was just written: `one()` throws should it be missing.
    return keyView(this.sql.exec<KeyRow>("select * from api_keys where id = ?", key.id).one());
  }

  key(id: string): KeyView | null {
    const row = this.sql.exec<KeyRow>("select * from api_keys where id = ? and revoked_at is null", id).toArray()[0];
    return row ? keyView(row) : null;
  }

  /**
   * The keys live at `now` (neither revoked nor expired), by id, after the cursor. An expired
   * key authenticates nothing and cannot be revoked, so an admin's list does not offer it.
   */
  listKeys(now: string, limit: number, after: string | null): { items: KeyView[]; next: string | null } {
    const rows = this.sql
      .exec<KeyRow>(
        `select * from api_keys where revoked_at is null and (expires_at is null or expires_at > ?)
         and id > ? order by id limit ?`,
        now,
        after ?? "",
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => this.shown(keyView(r), now)),
      next: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
    };
  }

  /** What each link of key `id`'s creator chain holds at `now`, nearest first (key-chain.ts). */
  capsOf(id: string, now: string): KeyCap[] {
    return keyCaps(this.store, id, now);
  }

  /** `key` as reads answer it: with `withheld_scopes` when its creator chain no longer holds some of its scopes. */
  shown(key: KeyView, now: string): KeyView {
    const withheld = withheldScopes(key.scopes, this.capsOf(key.id, now));
    return withheld.length > 0 ? { ...key, withheld_scopes: withheld } : key;
  }

  /** A key that is neither revoked nor expired at `now`, by id. */
  liveKey(id: string, now: string): KeyView | null {
    const key = this.key(id);
    return key && (key.expires_at === null || key.expires_at > now) ? key : null;
  }

  /**
   * Revokes a live key and, with it, every live key it created, directly or
   * through keys it created (a key minted by a key never outlives it). Each
   * revocation is its own `identity.key.revoked` event; the cascaded ones name
   * their cause. Returns the ids and hashes of every key revoked.
   */
  revokeKey(ctx: Origin, id: string): Result<{ id: string; hash: string }[], "not_found" | "revokes_caller"> {
    if (!this.liveKey(id, ctx.now)) return fail("not_found");
    // A key revoking the key that minted it (an admin key "rotated" by minting its replacement
    // with it, then revoking it with the replacement) would take itself down in the cascade and
    // could lock the tenant out behind a success. Revoking oneself directly stays allowed.
    const caller = ctx.actor.kind === "api_key" ? ctx.actor.id : null;
    if (caller !== null && caller !== id && this.mintedBy(caller, id)) {
      return fail("revokes_caller");
    }
    return ok(this.store.tx(() => this.revokeTrees(ctx, "id", id, null)));
  }

  /**
   * Whether key `keyId` goes when user `userId` is deleted: it, or a key it was minted from,
   * was created by the user. Deleting that user with it would revoke the caller in the cascade.
   */
  revokedWithUser(keyId: string, userId: string): boolean {
    return this.mintedBy(keyId, userId);
  }

  /** Whether key `id` was created by `ancestor` (a key, or a user), directly or through keys it created. */
  private mintedBy(id: string, ancestor: string): boolean {
    const rows = this.sql
      .exec(
        `with recursive up(id, created_by) as (
           select id, created_by from api_keys where id = ?
           union all
           select k.id, k.created_by from api_keys k join up u on k.id = u.created_by
         )
         select 1 from up where created_by = ? limit 1`,
        id,
        ancestor,
      )
      .toArray();
    return rows.length > 0;
  }

  /**
   * Revokes the live keys `userId` created and every key minted from them, inside the
   * caller's transaction (the user's deletion): a key must not outlive the person who
   * made it any more than a key outlives the key that made it. Returns what was revoked.
   */
  revokeKeysOf(ctx: Origin, userId: string): { id: string; hash: string }[] {
    return this.revokeTrees(ctx, "created_by", userId, { cause: "creator_deleted", user_id: userId });
  }

  /** Revokes the live keys whose `column` is `value` and their descendants; the roots' events carry `rootCause`. */
  private revokeTrees(
    ctx: Origin,
    column: "id" | "created_by",
    value: string,
    rootCause: { cause: "creator_deleted"; user_id: string } | null,
  ): { id: string; hash: string }[] {
    const tree = this.sql
      .exec<{ id: string; key_hash: string; parent: string | null }>(
        `with recursive tree(id, key_hash, parent) as (
           select id, key_hash, null from api_keys where ${column} = ?
           union all
           select k.id, k.key_hash, k.created_by from api_keys k join tree t on k.created_by = t.id
         )
         select t.id, t.key_hash, t.parent from tree t join api_keys k on k.id = t.id where k.revoked_at is null`,
        value,
      )
      .toArray();
    for (const k of tree) {
      this.sql.exec("update api_keys set revoked_at = ? where id = ?", ctx.now, k.id);
      const cause = k.parent === null ? rootCause : { cause: "cascade" as const, parent_key_id: k.parent };
      const data = { key_id: k.id, ...cause };
      this.store.emit(ctx, `key/${k.id}`, { type: "identity.key.revoked", data }, cause ?? undefined);
    }
    return tree.map((k) => ({ id: k.id, hash: k.key_hash }));
  }

  /** The live key with this hash (not revoked, not expired), with the caps its creator chain puts on it now. */
  verifyKey(hash: string, now: string): VerifiedKey | null {
    const row = this.sql
      .exec<KeyRow>("select * from api_keys where key_hash = ? and revoked_at is null", hash)
      .toArray()[0];
    if (!row || (row.expires_at !== null && row.expires_at <= now)) return null;
    const caps = this.capsOf(row.id, now).map((cap) => ({ grants: [...cap.grants], owner: cap.owner }));
    return { ...keyView(row), caps };
  }

  touchKey(id: string, now: string): void {
    this.sql.exec("update api_keys set last_used_at = ? where id = ?", now, id);
  }
}
