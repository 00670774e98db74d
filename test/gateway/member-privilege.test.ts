// A plain member's access token, a viewer's, and an API key scoped to reading posts, walked over
// every tenant operation of the served OpenAPI document, each in its own tenant, so that a route a
// module adds later is held to it without anyone naming it. The tenant holds one of every
// resource (isolation-seed.ts), none of them the walker's. Each operation's permission is read
// from the document (its bearer requirement's role, which the kernel writes from the route's
// `access`):
//  - one the walker lacks answers 403 forbidden, whatever its path names;
//  - one that asks none (its handler decides: the caller's own things, or another's with a
//    permission) refuses or does not find another's resource its path names (403 or 404; a
//    viewer, holding every read permission, may read it);
//  - and the tenant as its administrators read it is unchanged by all of those, but for the
//    refusals its audit log records.
// Then the operations the walker may call (its own account's, those its permissions allow) show
// nothing it may not see: of a member or a narrow key, nothing private of anyone else (others'
// emails, keys, sessions, secrets); of a viewer, no secret (a key, a webhook's or SSO secret, a
// two-factor secret or code, a refresh token) nor another's session. An operation whose
// permission the walker holds is not refused (that is the permission's meaning); its answers are
// searched.
import { beforeAll, describe, expect, it } from "vitest";
import { ALL_PERMISSIONS } from "../../src/generated/permissions";
import { call, login, register } from "../identity/helpers";
import type { Operation } from "./fuzz-operations";
import { exposed, settled, stable } from "./isolation-answers";
import { pathOf, requestOf, type WalkRequest } from "./isolation-requests";
import { type Twin, twinTenant } from "./isolation-seed";
import { BODIES, isPlatform, permissionOf, readsOf, send, servedDocument } from "./isolation-walk";

const { operations, raw } = await servedDocument();
const tenantSecured = operations.filter((op) => op.secured && !isPlatform(op));
const permission = (op: Operation) => permissionOf(raw(op));

// Operations whose answers are expected to move with the walker's refused requests: the audit
// log records every refusal (`authz.denied`). They are compared by their entries instead.
const AUDIT_TAG = "audit";
const tagged = (op: Operation, tag: string) => ((raw(op) as { tags?: string[] }).tags ?? []).includes(tag);

/** A walker: its credential in the tenant, and what it may not see of the tenant. */
interface Walker {
  name: string;
  /** It holds every read permission: another's resource a GET names may answer. */
  readsOthers: boolean;
  /** Values of the tenant the walker may not be shown. */
  hidden: (t: Twin) => string[];
  /** Its credential, made by the tenant's admin: the principal's id and its bearer token. */
  credential: (t: Twin) => Promise<{ id: string; token: string }>;
}

/** A user registered in `t` (registration gives `member`) holding `role` alone, signed in. */
async function userHolding(t: Twin, role: string): Promise<{ id: string; token: string }> {
  const email = `plain-${role}-${t.slug}@example.com`;
  const id = String((await register(t.slug, email, `Plain ${role}`)).id);
  if (role !== "member") {
    for (const [method, name] of [
      ["PUT", role],
      ["DELETE", "member"],
    ] as const) {
      const res = await call(`/api/v1/admin/users/${id}/roles/${name}`, { method, token: t.adminKey });
      expect(res.status, JSON.stringify(res.body)).toBe(204);
    }
  }
  const token = (await login(t.slug, email)).access_token;
  const me = await call("/api/v1/me", { token });
  expect(me.body.user, JSON.stringify(me.body)).toMatchObject({ roles: [role] });
  return { id, token };
}

// Everyone else's emails, keys, sessions, secrets and admin-only ids. Not the tenant's id and
// slug (in the caller's own token), nor the post and its author's id (a reader reads posts); the
// seed's marker, in every name and the post's title too, is searched for in whole values only.
const othersPrivate = (t: Twin) => [
  ...t.markers.slice(1).filter((v) => ![t.id, t.slug, t.ids.posts, t.ids.tenants].includes(v)),
  ...t.secrets,
];

/**
 * The ids a product module seeded (test/gateway/isolation/<name>.ts, keyed by collection such as
 * `v1/orders`) under a collection whose list the walker may call: reading them is what the
 * permission means, as the blog's post is for a reader. `plinth new module` grants members its
 * read permission, so before this a scaffolded module failed this walk as generated (`listOrders
 * … shows <the seeded order's id>`).
 */
const readableSeeds = (t: Twin, held: Set<string>) =>
  Object.entries(t.ids).flatMap(([key, id]) => {
    const list = tenantSecured.find(
      (op) => key.includes("/") && op.method === "GET" && op.pathParams.length === 0 && op.path.endsWith(`/${key}`),
    );
    const needs = list && permission(list);
    return needs !== undefined && held.has(needs) ? [id] : [];
  });

const WALKERS: Walker[] = [
  {
    name: "a plain member's token",
    readsOthers: false,
    hidden: othersPrivate,
    credential: (t) => userHolding(t, "member"),
  },
  {
    name: "a viewer's token",
    readsOthers: true,
    // It reads users, keys' prefixes, webhooks and the audit log; never a secret, nor the sessions
    // of others (listing those takes identity.user.update).
    hidden: (t) => [...t.secrets, t.ids.sessions ?? "", t.ids["me/sessions"] ?? ""],
    credential: (t) => userHolding(t, "viewer"),
  },
  {
    // A key is bounded by its scopes, and the routes of a signed-in user's own account refuse it.
    name: "an API key scoped to reading posts",
    readsOthers: false,
    hidden: othersPrivate,
    credential: async (t) => {
      const res = await call("/api/v1/admin/api-keys", {
        token: t.adminKey,
        body: { name: "walker", scopes: ["blog.post.read"] },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return { id: String(res.body.id), token: String(res.body.key) };
    },
  },
];

for (const w of WALKERS) {
  describe(`${w.name} on every operation of the document`, { shuffle: false }, () => {
    let t: Twin;
    let walker: { id: string; token: string };
    /** The walker's permissions, as GET /me names them. */
    let held: Set<string>;
    let privateValues: string[];
    const problems: string[] = [];

    /** Hidden values an answer shows that the request did not itself carry (a path's id echoed back). */
    const leaks = (what: string, req: WalkRequest, res: Response, text: string) => {
      const seen = exposed(res, text);
      const asked = `${req.url} ${typeof req.body === "string" ? req.body : ""}`;
      const found = [...new Set(privateValues.filter((v) => seen.includes(v) && !asked.includes(v)))];
      if (found.length > 0) problems.push(`${what}: shows ${found.join(", ")} — ${res.status} ${text.slice(0, 200)}`);
      if (res.status >= 500) problems.push(`${what}: ${res.status} ${text.slice(0, 200)}`);
    };

    const asWalker = async (op: Operation, url: string) => {
      const req = requestOf(op, url, walker.token, BODIES);
      const { res, text } = await send(req);
      const what = `${op.operationId} ${op.method} ${url} (${permission(op) ?? "no permission"})`;
      leaks(what, req, res, text);
      return { res, text, what };
    };

    beforeAll(async () => {
      t = await twinTenant("w");
      walker = await w.credential(t);
      const me = await call("/api/v1/me", { token: walker.token });
      expect(me.status, JSON.stringify(me.body)).toBe(200);
      held = new Set(me.body.permissions as string[]);
      const readable = readableSeeds(t, held);
      privateValues = w.hidden(t).filter((v) => v !== "" && !readable.includes(v));
    });

    it("knows the permission each operation asks, and the walker holds some but not all", () => {
      const declared = tenantSecured.map(permission).filter((p) => p !== undefined);
      expect(declared.length).toBeGreaterThan(30);
      expect(declared.filter((p) => !(ALL_PERMISSIONS as readonly string[]).includes(p))).toEqual([]);
      // A tenant's built-in role, as a tenant starts with it (docs/identity.md, Roles).
      expect(held.size).toBeGreaterThan(0);
      expect(declared.filter((p) => !held.has(p)).length).toBeGreaterThan(10);
      // The audit log's operations, compared by their entries (AUDIT_TAG), are still there to compare.
      expect(tenantSecured.some((op) => tagged(op, AUDIT_TAG))).toBe(true);
    });

    /** Every tenant GET as its administrators read it, the audit log's apart. */
    const snapshot = async (): Promise<Record<string, string>> => {
      const read = await readsOf(
        t,
        tenantSecured.filter((op) => op.method === "GET" && !tagged(op, AUDIT_TAG)),
      );
      return Object.fromEntries(Object.entries(read).map(([id, got]) => [id, `${got.status} ${stable(got.text)}`]));
    };
    type Entry = { seq: number; action: string; actor: { kind: string; id: string | null } };
    const auditEntries = async (): Promise<Entry[]> => {
      const entries: Entry[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
        const page = await call(`/api/v1/admin/audit?limit=100${q}`, { token: t.adminKey });
        expect(page.status, JSON.stringify(page.body)).toBe(200);
        entries.push(...(page.body.items as Entry[]));
        cursor = (page.body.next_cursor as string | null) ?? null;
      } while (cursor);
      return entries;
    };

    let before: Record<string, string>;
    let auditBefore: Set<number>;
    it("reads the tenant as its administrators see it", async () => {
      before = await settled(snapshot);
      auditBefore = new Set((await auditEntries()).map((e) => e.seq));
    });

    it("answers 403 forbidden to every operation whose permission the walker lacks", async () => {
      problems.length = 0;
      for (const op of tenantSecured.filter((o) => permission(o) !== undefined && !held.has(permission(o) ?? ""))) {
        const url = pathOf(op, () => t);
        const { res, text, what } = await asWalker(op, url);
        if (res.status !== 403 || !text.includes('"forbidden"')) {
          problems.push(`${what}: ${res.status}, not 403 forbidden — ${text.slice(0, 200)}`);
        }
      }
      expect(problems).toEqual([]);
    });

    it("refuses or does not find another's resource on every operation that asks no permission", async () => {
      problems.length = 0;
      // Each names the tenant's resources: the other users', their sessions, the admin's post.
      for (const op of tenantSecured.filter((o) => permission(o) === undefined && o.pathParams.length > 0)) {
        const url = pathOf(op, () => t);
        const { res, text, what } = await asWalker(op, url);
        if (w.readsOthers && op.method === "GET" && res.ok) continue;
        if (res.status !== 403 && res.status !== 404) {
          problems.push(`${what}: ${res.status}, not 403 or 404 — ${text.slice(0, 200)}`);
        }
      }
      expect(problems).toEqual([]);
    });

    it("leaves the tenant as its administrators saw it, its audit log holding only the refusals", async () => {
      problems.length = 0;
      const after = await settled(snapshot);
      for (const id of Object.keys(before)) {
        if (before[id] !== after[id]) problems.push(`${id}: changed\n  before ${before[id]}\n  after  ${after[id]}`);
      }
      // The refusals' entries reach the log through the events queue, a moment behind.
      const log = await settled(async () => ({ entries: JSON.stringify(await auditEntries()) }));
      const fresh = (JSON.parse(log.entries ?? "[]") as Entry[]).filter((e) => !auditBefore.has(e.seq));
      expect(fresh.length).toBeGreaterThan(0);
      for (const e of fresh) {
        if (e.action !== "authz.denied" || e.actor.id !== walker.id) problems.push(`audit: ${JSON.stringify(e)}`);
      }
      expect(problems).toEqual([]);
    });

    it("the operations the walker may call show nothing it may not see", async () => {
      problems.length = 0;
      // Its own account's routes, and those its permissions allow; the DELETEs last, the deepest
      // paths first (its SSO link, its two-factor), its own account (DELETE /me, which ends the
      // walk's token) at the very end.
      const own = tenantSecured.filter((o) =>
        permission(o) === undefined ? o.pathParams.length === 0 : held.has(permission(o) ?? ""),
      );
      const depth = (op: Operation) => op.path.split("/").length;
      const writesLast = [
        ...own.filter((o) => o.method !== "DELETE"),
        ...own.filter((o) => o.method === "DELETE").sort((x, y) => depth(y) - depth(x)),
      ];
      let answered = 0;
      for (const op of writesLast) {
        const { res } = await asWalker(
          op,
          pathOf(op, () => t),
        );
        if (res.ok) answered++;
      }
      // Not a walk of refusals only: getMe and the posts it reads answer, even to the narrow key.
      expect(answered).toBeGreaterThanOrEqual(3);
      expect(problems).toEqual([]);
    });
  });
}
