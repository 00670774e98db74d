// Tenant isolation on every operation the served OpenAPI document lists, kernel's and modules'
// alike, so that a route a module adds later is held to it without anyone naming it. Two tenants,
// A and B, each hold one of every resource (isolation-seed.ts); B's credentials (its admin key,
// holding every permission, and an owner's access token) are aimed at A: A's ids in every path
// (alone and mixed with B's), A's list cursors, A's idempotency key on the same path and body A
// used it with, A's slug in X-Tenant and as the subdomain, A's refresh token and email on B's
// open routes, A's signed URL. Nothing of A may come back (no id, name, email, key prefix or
// secret of A in a body or header, JWT payloads decoded), ids of A answer 404 or 403, and A as A
// reads it is unchanged afterwards; B as B reads it is unchanged by A's growing (no count of B's
// may count A's data). Platform operations refuse a tenant's credentials outright. A member's
// privileges within one tenant are walked by member-privilege.test.ts.
// An operation the walk cannot drive (B's own request on B's own resource fails) fails the test
// unless CANNOT_DRIVE says why, so the walk's coverage cannot shrink without anyone noticing.
import { beforeAll, describe, expect, it } from "vitest";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { PASSWORD } from "../identity/helpers";
import type { Operation } from "./fuzz-operations";
import { difference, exposed, settled, stable, valuesOf } from "./isolation-answers";
import { moduleCannotDrive } from "./isolation-modules";
import { crossPaths, pathOf, requestOf, unfilled } from "./isolation-requests";
import { renewSessions, type Twin, twinTenant } from "./isolation-seed";
import { BODIES, digested, isPlatform, readsOf, send, servedDocument } from "./isolation-walk";

// Operations B's own request on B's own resource cannot succeed for, each with why. The walk
// still aims them at A; only the check that they were driven is waived. A product module's go in
// its test/gateway/isolation/<name>.ts (`cannotDrive`).
const CANNOT_DRIVE: Record<string, string> = {
  ...moduleCannotDrive,
  confirmTwoFactor: "needs a current TOTP code of the secret beginTwoFactor returned, which the walk does not compute",
  disableTwoFactor: "needs two-factor on (confirmTwoFactor) and a current code",
  linkSso: "reads the identity provider's discovery document, which no host of the test pool serves",
  unlinkSso: "needs an identity linked through a sign-in at the identity provider, which the test pool has none of",
  unlinkUserSso: "needs an identity linked through a sign-in at the identity provider, which the test pool has none of",
};

// Open operations whose URL is a capability a tenant was handed, not one built from the path.
const OPEN_URL: Record<string, (t: Twin) => string> = {
  downloadFileSigned: (t) => t.signedUrl,
};

// Routes of the app's own table that the document does not list, each with why: every other
// route must be in the document, or the walk (which reads the document) would never reach it.
const OUTSIDE_DOCUMENT: Record<string, string> = {
  "GET /openapi.json": "the document itself: the same for every caller, no tenant",
  "GET /docs": "the reference page's static HTML, no tenant",
  "GET /docs/app.js": "the reference page's static script, no tenant",
  "GET /docs/app.css": "the reference page's static style, no tenant",
};

const DOMAIN = "plinth.example";
const SHARED_IDEMPOTENCY_KEY = "iso-walk-shared-key";

const { operations, raw } = await servedDocument();
/** Open routes of a tenant: no credential, the tenant from X-Tenant, the subdomain or the URL's own query. */
const takesTenant = (op: Operation) =>
  (raw(op).parameters ?? []).some(
    (p) => (p.in === "header" && p.name.toLowerCase() === "x-tenant") || (p.in === "query" && p.name === "tenant"),
  );
/** Whether `op` declares the request header `name`. */
const declares = (op: Operation, name: string) =>
  (raw(op).parameters ?? []).some((p) => p.in === "header" && p.name.toLowerCase() === name);
const tenantSecured = operations.filter((op) => op.secured && !isPlatform(op));
const tenantOpen = operations.filter((op) => !op.secured && takesTenant(op));
const platform = operations.filter(isPlatform);
const tenantless = operations.filter((op) => !op.secured && !takesTenant(op) && !isPlatform(op));

const subdomainApp = testApp(modules, { PLATFORM_DOMAIN: DOMAIN });

// One scenario in steps, each on what the ones before left (A's own requests before B's tries, B's
// own writes, which end B's sessions, last): run in order even when the suite is shuffled (a
// shuffled run, seed 7171, put B's own requests first and every later try of B's owner got 401).
describe("tenant isolation on every operation of the document", { shuffle: false }, () => {
  let a: Twin;
  let b: Twin;
  /** A's values no answer to B may show: the seeded ones and those of A's own requests below. */
  let markers: string[];
  const problems: string[] = [];

  const leaks = (what: string, res: Response, text: string) => {
    const seen = exposed(res, text);
    const found = [...new Set(markers.filter((m) => seen.includes(m)))];
    if (found.length > 0) problems.push(`${what}: shows A's ${found.join(", ")} — ${res.status} ${text.slice(0, 200)}`);
    if (res.status >= 500) problems.push(`${what}: ${res.status} ${text.slice(0, 200)}`);
  };

  beforeAll(async () => {
    [a, b] = [await twinTenant("a"), await twinTenant("b")];
    markers = a.markers;
  });

  it("knows every operation's kind", () => {
    expect(operations.length).toBeGreaterThan(50);
    expect(tenantSecured.length + tenantOpen.length + platform.length + tenantless.length).toBe(operations.length);
    for (const id of [...Object.keys(CANNOT_DRIVE), ...Object.keys(BODIES)]) {
      expect(
        operations.map((o) => o.operationId),
        `stale entry ${id}`,
      ).toContain(id);
    }
    // Every route the app serves is walked: none is missing from the document the walk reads.
    const documented = new Set(operations.map((o) => `${o.method} ${o.path}`));
    const served = subdomainApp.app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}")}`);
    const undocumented = [...new Set(served)].filter((r) => !documented.has(r) && !(r in OUTSIDE_DOCUMENT));
    expect(undocumented).toEqual([]);
    for (const r of Object.keys(OUTSIDE_DOCUMENT)) expect(served, `stale entry ${r}`).toContain(r);
    // A path parameter no seeded resource fills: seed one in test/gateway/isolation/<module>.ts
    // (isolation-modules.ts; plinth new module writes one), or in isolation-seed.ts for a core module.
    const missing = tenantSecured.flatMap((op) => unfilled(op, a).map((p) => `${op.operationId} {${p}}`));
    expect(missing).toEqual([]);
  });

  /** A cursor of each of A's lists that has one at one item a page. */
  const cursorsOfA = async (): Promise<Record<string, string>> => {
    const cursors: Record<string, string> = {};
    for (const op of tenantSecured.filter((o) => o.method === "GET" && o.queryParams.includes("cursor"))) {
      const url = `${pathOf(op, () => a)}?limit=1`;
      let got = await send(requestOf(op, url, a.adminKey, BODIES));
      if (got.res.status === 403) got = await send(requestOf(op, url, a.ownerToken, BODIES));
      const body = JSON.parse(got.text) as { next_cursor?: string | null };
      if (body.next_cursor) cursors[op.operationId] = body.next_cursor;
    }
    return cursors;
  };

  /** Every tenant GET as `twin` itself reads it, keyed by operation. */
  const snapshotOf = async (twin: Twin): Promise<Record<string, string>> => {
    const read = await readsOf(
      twin,
      tenantSecured.filter((o) => o.method === "GET"),
    );
    return Object.fromEntries(Object.entries(read).map(([id, got]) => [id, `${got.status} ${stable(got.text)}`]));
  };
  /** What B's requests must leave as it is. */
  const snapshotOfA = () => snapshotOf(a);

  /** Where `before` and `after`, two snapshots of one tenant, differ. */
  const changes = (before: Record<string, string>, after: Record<string, string>, whose: string) =>
    Object.keys(before)
      .filter((id) => before[id] !== after[id])
      .map((id) => `${id}: ${whose} answer changed${difference(before[id], after[id])}`);

  // B's every read before and after A grows (A's own requests below add one of each resource A
  // can create): a list's length, a total, a quota's usage or any other summary of B's that moved
  // would count A's data for B, which no marker search finds.
  let bBefore: Record<string, string>;
  it("reads B as B sees it, before A grows", async () => {
    bBefore = await settled(() => snapshotOf(b));
  });

  it("A's own requests first, with the idempotency key B will use on the same path and body", async () => {
    let grown = 0;
    for (const op of tenantSecured.filter((o) => o.method !== "DELETE" && declares(o, "idempotency-key"))) {
      const keyed = requestOf(
        op,
        pathOf(op, () => a),
        a.adminKey,
        BODIES,
        { "idempotency-key": SHARED_IDEMPOTENCY_KEY },
      );
      const got = await send(await digested(op, keyed));
      // Whatever A's answer named (a new resource's id, a key, a secret) is A's too.
      markers.push(...valuesOf(got.text));
      if (got.res.ok) grown++;
    }
    // A holds more than B now, of most kinds: what the next step compares B's reads across.
    expect(grown).toBeGreaterThan(5);
  });

  it("B reads the same after A grew: nothing B sees counts A's data", async () => {
    expect(changes(bBefore, await settled(() => snapshotOf(b)), "B's")).toEqual([]);
  });

  let before: Record<string, string>;
  /** Operations naming nothing of A whose request B sent in the walk succeeded: driven already. */
  const drivenByWalk = new Set<string>();
  let cursors: Record<string, string>;
  it("reads A as A sees it, and A's list cursors", async () => {
    before = await settled(snapshotOfA);
    cursors = await cursorsOfA();
  });

  it("B's credentials never reach A's resources through any tenant operation", async () => {
    problems.length = 0;
    // A DELETE naming nothing of A (its own account, its own SSO) could only take B's walk away
    // from it: the controls below send those.
    for (const op of tenantSecured.filter((o) => o.pathParams.length > 0 || o.method !== "DELETE")) {
      for (const [who, token] of [
        ["key", b.adminKey],
        ["owner token", b.ownerToken],
      ] as const) {
        const urls = op.pathParams.length > 0 ? crossPaths(op, a, b) : [pathOf(op, () => b)];
        for (const url of urls) {
          const query = cursors[op.operationId] ? `?cursor=${encodeURIComponent(cursors[op.operationId] ?? "")}` : "";
          const headers: Record<string, string> = declares(op, "idempotency-key")
            ? { "idempotency-key": SHARED_IDEMPOTENCY_KEY }
            : {};
          const { res, text } = await send(await digested(op, requestOf(op, `${url}${query}`, token, BODIES, headers)));
          const what = `${op.operationId} ${op.method} ${url}${query} with B's ${who}`;
          leaks(what, res, text);
          if (op.pathParams.length === 0 && res.ok) drivenByWalk.add(op.operationId);
          if (op.pathParams.length > 0 && res.status !== 404 && res.status !== 403) {
            problems.push(`${what}: ${res.status}, not 404 or 403 — ${text.slice(0, 200)}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("B's credentials under A's slug (X-Tenant or subdomain) are tenant_mismatch on every tenant operation", async () => {
    problems.length = 0;
    // The subdomain app issues its tokens as https://<PLATFORM_DOMAIN>: B's owner signs in there for
    // one (here, after the walk above, whose revoke-others would have signed it out).
    const signIn = await subdomainApp.fetch(`https://${b.slug}.${DOMAIN}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: b.ownerEmail, password: PASSWORD }),
    });
    expect(signIn.status).toBe(200);
    const bHostToken = ((await signIn.json()) as { access_token: string }).access_token;
    for (const op of [...tenantSecured, ...tenantOpen]) {
      const url = OPEN_URL[op.operationId]?.(b) ?? pathOf(op, () => b);
      for (const [who, token, hostToken] of [
        ["key", b.adminKey, b.adminKey],
        ["owner token", b.ownerToken, bHostToken],
      ] as const) {
        const header = await send(requestOf(op, url, token, BODIES, { "x-tenant": a.slug }));
        const viaHost = requestOf(op, url, hostToken, BODIES);
        const host = await subdomainApp.fetch(`https://${a.slug}.${DOMAIN}${url}`, {
          method: viaHost.method,
          headers: viaHost.headers,
          body: viaHost.body,
        });
        const hostText = await host.text();
        for (const [how, res, text] of [
          ["X-Tenant", header.res, header.text],
          ["subdomain", host, hostText],
        ] as const) {
          const what = `${op.operationId} ${op.method} ${url} with B's ${who} and A's ${how}`;
          leaks(what, res, text);
          if (res.status !== 403 || !text.includes('"tenant_mismatch"')) {
            problems.push(`${what}: ${res.status}, not 403 tenant_mismatch — ${text.slice(0, 200)}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("B's open routes, given A's tokens, email and signed URL, answer nothing of A", async () => {
    problems.length = 0;
    const ofA = { refresh_token: a.ownerRefresh, token: a.ownerRefresh, email: a.ownerEmail, password: PASSWORD };
    for (const op of tenantOpen) {
      const query = op.queryParams.map((q) => `${q}=${encodeURIComponent(a.ownerEmail)}`).join("&");
      const capability = OPEN_URL[op.operationId];
      // A's own capability URL, and B's signature carried over to A's resource.
      const urls = capability
        ? [capability(a), `${pathOf(op, () => a)}${new URL(capability(b), "http://x").search}`]
        : [`${pathOf(op, () => a)}${query ? `?${query}` : ""}`];
      const bodies = { [op.operationId]: { ...(BODIES[op.operationId] as object), ...ofA } };
      for (const url of urls) {
        for (const [who, headers] of [
          ["X-Tenant", { "x-tenant": b.slug }],
          ["key", { authorization: `Bearer ${b.adminKey}` }],
        ] as const) {
          const req = requestOf(op, url, undefined, op.bodySchema ? bodies : BODIES, headers);
          const { res, text } = await send(req);
          const what = `${op.operationId} ${op.method} ${url} with B's ${who}`;
          leaks(what, res, text);
          if (capability && res.status !== 403 && res.status !== 404) {
            problems.push(`${what}: ${res.status}, not 404 or 403 — ${text.slice(0, 200)}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("platform operations refuse B's key and B's owner", async () => {
    problems.length = 0;
    for (const op of platform) {
      for (const [who, token] of [
        ["key", b.adminKey],
        ["owner token", b.ownerToken],
      ] as const) {
        const url = pathOf(op, () => a);
        const { res, text } = await send(requestOf(op, url, token, BODIES));
        const what = `${op.operationId} ${op.method} ${url} with B's ${who}`;
        leaks(what, res, text);
        if (res.status !== 401 && res.status !== 403) problems.push(`${what}: ${res.status}, not 401 or 403`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("operations of no tenant show nothing of A to B", async () => {
    problems.length = 0;
    for (const op of tenantless) {
      const { res, text } = await send(
        requestOf(
          op,
          pathOf(op, () => b),
          b.adminKey,
          BODIES,
        ),
      );
      leaks(`${op.operationId} ${op.method} ${op.path} with B's key`, res, text);
    }
    expect(problems).toEqual([]);
  });

  it("leaves A as A saw it", async () => {
    expect(changes(before, await settled(snapshotOfA), "A's")).toEqual([]);
  });

  it("B's own requests on B's own resources succeed: each refusal above came from isolation, not a bad request", async () => {
    problems.length = 0;
    // Writes that destroy last, the deepest paths first (a user's sessions before the user),
    // and the caller's own account at the very end.
    const depth = (op: Operation) => op.path.split("/").length;
    const order = [
      ...tenantSecured.filter((op) => op.method !== "DELETE"),
      ...tenantSecured.filter((op) => op.method === "DELETE").sort((x, y) => depth(y) - depth(x)),
    ];
    for (const op of order.filter((o) => !drivenByWalk.has(o.operationId))) {
      // The sessions the walk's writes revoked, replaced before the deletes that name one.
      if (op === order.find((o) => o.method === "DELETE")) await renewSessions(b);
      const url = pathOf(op, () => b);
      let got = await send(requestOf(op, url, b.adminKey, BODIES));
      if (got.res.status === 401 || got.res.status === 403) got = await send(requestOf(op, url, b.ownerToken, BODIES));
      // The answers of B's own account and resources are searched too: the walk above never sent a
      // DELETE naming nothing (DELETE /me, /me/sso, /me/two-factor, /admin/sso), only this step does.
      leaks(`${op.operationId} ${op.method} ${url} as B on B's own`, got.res, got.text);
      const driven = got.res.status >= 200 && got.res.status < 300;
      const why = CANNOT_DRIVE[op.operationId];
      if (!driven && why === undefined) {
        problems.push(
          `${op.operationId} ${op.method} ${url}: B's own request answers ${got.res.status} — ${got.text.slice(0, 240)}`,
        );
      }
      if (driven && why !== undefined) problems.push(`${op.operationId} is driven now: take it off CANNOT_DRIVE`);
    }
    expect(problems).toEqual([]);
  });
});
