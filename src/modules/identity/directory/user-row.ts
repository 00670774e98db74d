import type { UserView } from "./types";

/** A row of the directory's `users` table, as `select *` reads it. */
export interface UserRow extends Record<string, SqlStorageValue> {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  email_verified: number;
  suspended_at: string | null;
  suspended_reason: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * A user as the directory answers it, from its row and its roles (sorted by the caller): one
 * mapping for every read (store.ts, role-holders.ts), so they cannot answer the same user two ways.
 */
export function userView(row: UserRow, roles: string[]): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    roles,
    email_verified: row.email_verified === 1,
    status: row.suspended_at === null ? "active" : "suspended",
    suspended_at: row.suspended_at,
    suspended_reason: row.suspended_at === null ? null : row.suspended_reason,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
