import { base64UrlEncode } from "../../../kernel/crypto";
import { type Origin, systemOrigin } from "../../../kernel/events/origin";
import type { DirectoryStore } from "./store";

/**
 * The tenant's envelope-encryption seed (kernel/crypto/envelope.ts). Its
 * events say that key material exists or was destroyed, never what it is.
 */
export class KeyMaterial {
  constructor(private readonly store: DirectoryStore) {}

  /** The seed (base64url), created on first use when `create` is set; null once destroyed. Returns whether it wrote. */
  seed(create: boolean, now: string): { seed: string | null; created: boolean } {
    const row = this.store.sql
      .exec<{ seed: string | null; destroyed_at: string | null }>("select seed, destroyed_at from key_material")
      .toArray()[0];
    if (row) return { seed: row.destroyed_at === null ? row.seed : null, created: false };
    if (!create) return { seed: null, created: false };
    const seed = base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)));
    // No job names it: the first seal of whichever request or job needed it, at that caller's time.
    const ctx = systemOrigin(now, null);
    this.store.tx(() => {
      this.store.sql.exec("insert into key_material (id, seed, created_at) values (1, ?, ?)", seed, now);
      this.store.emit(ctx, "keys", { type: "identity.keys.created", data: {} });
    });
    return { seed, created: true };
  }

  /** Crypto-shredding: destroys the seed, so the tenant's ciphertexts can never be read again. */
  destroy(ctx: Origin): void {
    this.store.tx(() => {
      this.store.sql.exec(
        `insert into key_material (id, seed, created_at, destroyed_at) values (1, null, ?, ?)
         on conflict(id) do update set seed = null, destroyed_at = excluded.destroyed_at`,
        ctx.now,
        ctx.now,
      );
      this.store.emit(ctx, "keys", { type: "identity.keys.destroyed", data: {} });
    });
  }
}
