// Every paged list of the API, for the tests that hold them all to one rule (list-limits,
// list-cursors): one table, so a list added to the API is added to both checks at once.
import { newTenant, newUser, rootKey } from "../identity/helpers";

/** A list, the credential that reads it, and whether its cursor is one of plinth's ids. */
export interface PagedList {
  path: string;
  token: string;
  /** Its `?cursor=` is an id it returned (not a position such as the audit log's seq, nor an `after`). */
  idCursor: boolean;
}

/** A fresh tenant (its admin key; it has a user of its own) and every paged list, each with a credential that may read it. */
export async function pagedLists(): Promise<{ admin: string; lists: PagedList[] }> {
  const t = await newTenant();
  const user = await newUser(t.slug);
  const admin = t.adminKey;
  const root = rootKey();
  const ids = (token: string, ...paths: string[]) => paths.map((path) => ({ path, token, idCursor: true }));
  const lists = [
    ...ids(
      admin,
      "/api/v1/blog/posts",
      "/api/v1/users",
      "/api/v1/admin/api-keys",
      "/api/v1/admin/invitations",
      "/api/v1/admin/dead-letters",
      "/api/v1/admin/webhooks",
      "/api/v1/files",
      `/api/v1/admin/users/${user.id}/sessions`,
    ),
    ...ids(user.access_token as string, "/api/v1/me/sessions"),
    ...ids(
      root,
      "/api/v1/platform/tenants",
      "/api/v1/platform/mail/dead-letters",
      "/api/v1/platform/events/dead-letters",
    ),
    { path: "/api/v1/admin/audit", token: admin, idCursor: false },
    { path: "/api/v1/platform/crypto/versions", token: root, idCursor: false },
  ];
  return { admin, lists };
}
