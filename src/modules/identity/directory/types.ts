import type { Actor } from "../../../kernel/outbox";
import type { Refusal } from "../policy";

/** Who is acting and when; passed into every mutating directory call. */
export interface Ctx {
  now: string;
  actor: Actor;
  requestId: string | null;
  /** Keyed hash of the client's IP (kernel/http/client-ip.ts); absent off the request path. */
  ipHash?: string | null;
}

/** Expected failures cross the RPC boundary as values. */
export type Result<T, E extends string = string> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const fail = <E extends string>(error: E): { ok: false; error: E } => ({ ok: false, error });

/** An action the authority policy refused, with the rule that refused it. */
export type Denied = { ok: false; error: "denied"; refusal: Refusal };

export const denied = (refusal: Refusal): Denied => ({ ok: false, error: "denied", refusal });

/** A user as the contract shows it. */
export interface UserView {
  id: string;
  email: string;
  name: string;
  roles: string[];
  email_verified: boolean;
  created_at: string;
  updated_at: string;
}

/** An API key without its secret. */
export interface KeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
}

/** What authentication needs to know about a user, cached briefly per isolate. */
export interface UserPrincipal {
  id: string;
  roles: string[];
  /** Union of the roles' permission patterns. */
  grants: string[];
  /** Live refresh-token families; an access token names its family in `sid`. */
  families: string[];
}
