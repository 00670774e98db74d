/**
 * A key's creator chain as the directory holds it now: the keys it was minted from, nearest
 * first, and the user (or the platform) at the root, each turned into the cap it puts on the
 * key (key-reach.ts). Read in the call that needs it, so a role lost a moment ago counts.
 */
import { storedJson } from "../../../kernel/db/stored-json";
import { type KeyCap, NOTHING } from "../key-reach";
import { OWNER } from "../policy";
import type { DirectoryStore } from "./store";
import { Strings } from "./types";

/** Who `created_by` names when neither a user nor a key did: the tenant's first key, a recovery key. */
export const PLATFORM_CREATOR = "platform";

/** Links followed at most: minting chains are short; a longer one (or a loop) holds nothing rather than walk on. */
const MAX_CHAIN = 64;

interface ChainRow extends Record<string, SqlStorageValue> {
  id: string;
  scopes: string;
  created_by: string | null;
  revoked_at: string | null;
  expires_at: string | null;
  depth: number;
}

/**
 * The caps on key `id` at `now`, nearest first: each key it was minted from (its scopes; nothing
 * once revoked or expired), then its root creator: a user's current grants (owner-ness only
 * through `owner`), nothing for a user no longer in the directory or suspended, and no cap at all for the
 * platform (or a key from before creators were recorded).
 */
export function keyCaps(store: DirectoryStore, id: string, now: string): KeyCap[] {
  const chain = store.sql
    .exec<ChainRow>(
      `with recursive up(id, scopes, created_by, revoked_at, expires_at, depth) as (
         select id, scopes, created_by, revoked_at, expires_at, 0 from api_keys where id = ?
         union all
         select k.id, k.scopes, k.created_by, k.revoked_at, k.expires_at, u.depth + 1
         from api_keys k join up u on k.id = u.created_by where u.depth < ?
       )
       select * from up order by depth`,
      id,
      MAX_CHAIN,
    )
    .toArray();
  const [self, ...ancestors] = chain;
  if (!self) return [NOTHING];
  if (chain.length > MAX_CHAIN) return [NOTHING];
  const caps: KeyCap[] = [];
  for (const key of ancestors) {
    // A key revoked or expired holds nothing, so neither does what it minted (a cascade
    // revokes those anyway; this covers rows from before it did).
    if (key.revoked_at !== null || (key.expires_at !== null && key.expires_at <= now)) return [NOTHING];
    const scopes = Strings.parse(storedJson(key.scopes, `api key ${key.id} scopes`));
    caps.push({ grants: scopes, owner: scopes.includes("*") });
  }
  const root = (ancestors.at(-1) ?? self).created_by;
  if (root === null || root === PLATFORM_CREATOR) return caps;
  // A suspended creator holds nothing: their keys are paused with them, and work again once they are reactivated.
  if (!store.user(root) || store.suspended(root)) return [NOTHING];
  const roles = store.rolesOf(root);
  caps.push({ grants: store.grantsOf(roles), owner: roles.includes(OWNER) });
  return caps;
}
