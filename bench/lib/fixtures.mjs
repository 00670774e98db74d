/**
 * plinth fixtures: the data a scenario needs before it is measured (a tenant and its admin
 * key, a registered user, an access token), created through plinth's own HTTP API against
 * the started Worker. Each is created at most once per origin and shared by every scenario
 * that asks for it, so the order and the selection of scenarios do not matter.
 */

import { prose } from "./sample.mjs";

/** A setup request must not hang the run. Registration and login spend one Argon2id each. */
const SETUP_TIMEOUT_MS = 30_000;

/**
 * One JSON request; throws (with status and the start of the body) unless the status is `expect`.
 * @param {string} origin e.g. http://127.0.0.1:1234
 * @param {string} path
 * @param {{ method?: string, headers?: Record<string, string>, body?: unknown, expect: number }} opts
 * @returns {Promise<any>} the parsed JSON body
 */
async function call(origin, path, { method = "GET", headers = {}, body, expect }) {
  const res = await fetch(new URL(path, origin), {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(SETUP_TIMEOUT_MS),
  });
  const text = await res.text();
  if (res.status !== expect) {
    throw new Error(`${method} ${path} answered ${res.status} (expected ${expect}): ${text.slice(0, 300)}`);
  }
  return text ? JSON.parse(text) : null;
}

/**
 * @typedef {object} Prepared what a scenario's setup returns
 * @property {Record<string, string>} [headers] merged into the scenario's headers
 * @property {number} [validUntil] epoch ms after which the headers stop working; the runner
 *   runs the setup again before a measurement that would end later than that
 * @property {() => { path: string, body: string }} [next] when set, each request of the scenario
 *   takes its path and body from the next call (shared by all connections)
 * @property {string[]} [paths] the resources the requests go to (for checks after the load)
 */

/** Content of the PATCH bodies: about 300 bytes, made unique per request by a counter. */
const PATCH_TEXT = prose(280);

/**
 * The writes' request sequence: `paths` in turn, each body new content (`PATCH_TEXT` and the
 * edit's number from `edits`, which set-ups may share so that no content repeats).
 * @param {string[]} paths
 * @param {{ n: number }} [edits]
 * @returns {() => { path: string, body: string }}
 */
export function editSequence(paths, edits = { n: 0 }) {
  return () => {
    edits.n++;
    return {
      path: paths[edits.n % paths.length] ?? "/",
      body: JSON.stringify({ content: `${PATCH_TEXT} (edit ${edits.n})` }),
    };
  };
}

/**
 * @param {{ rootKey: string, slug: string, email: string, password: string }} opts the
 *   platform root key the Worker was started with, and the tenant and user to create
 */
export function plinthFixtures({ rootKey, slug, email, password }) {
  /** @type {Map<string, Promise<any>>} */
  const once = new Map();
  /**
   * @template T
   * @param {string} key
   * @param {() => Promise<T>} make
   * @returns {Promise<T>}
   */
  const memo = (key, make) => {
    let p = once.get(key);
    if (!p) {
      p = make();
      once.set(key, p);
      p.catch(() => once.delete(key)); // a failure is not cached: the next caller retries
    }
    return p;
  };
  const tenantHeaders = { "x-tenant": slug };

  /** @param {string} origin @returns {Promise<{ id: string, admin_key: string }>} */
  const tenant = (origin) =>
    memo(`tenant ${origin}`, () =>
      call(origin, "/api/v1/platform/tenants", {
        method: "POST",
        headers: { authorization: `Bearer ${rootKey}` },
        body: { slug, name: "Bench" },
        expect: 201,
      }),
    );

  /** @param {string} origin */
  const user = (origin) =>
    memo(`user ${origin}`, async () => {
      await tenant(origin);
      return call(origin, "/api/v1/auth/register", {
        method: "POST",
        headers: tenantHeaders,
        body: { email, password, name: "Bench User" },
        expect: 201,
      });
    });

  /** The login request, as sent by the JWT setup and by the login series. */
  const loginRequest = (/** @type {string} */ loginEmail) => ({
    path: "/api/v1/auth/login",
    method: "POST",
    headers: { ...tenantHeaders, "content-type": "application/json" },
    body: JSON.stringify({ email: loginEmail, password }),
  });

  /**
   * `count` draft posts created as the tenant's admin, once per origin and `key`.
   * @param {string} origin
   * @param {string} key
   * @param {number} count
   * @returns {Promise<string[]>} their paths, /api/v1/blog/posts/{id}
   */
  const posts = (origin, key, count) =>
    memo(`posts ${key} ${origin}`, async () => {
      const { admin_key } = await tenant(origin);
      const paths = [];
      for (let i = 0; i < count; i++) {
        const post = await call(origin, "/api/v1/blog/posts", {
          method: "POST",
          headers: { authorization: `Bearer ${admin_key}` },
          body: { title: `Bench post ${key} ${i + 1}`, content: "" },
          expect: 201,
        });
        paths.push(`/api/v1/blog/posts/${post.id}`);
      }
      return paths;
    });

  const edits = { n: 0 }; // shared by every write set-up, so no PATCH repeats a post's current content

  return {
    /**
     * Set-up of a write scenario: `count` posts (created once per `key`) and the admin key; each
     * request PATCHes the next post in turn with new content, so every one appends an event (a
     * PATCH that changes nothing appends none). No If-Match: concurrent writes never conflict.
     * @param {string} key
     * @param {number} count
     * @returns {(origin: string) => Promise<Prepared & { next: NonNullable<Prepared["next"]>, paths: string[] }>}
     */
    writes: (key, count) => async (origin) => {
      const { admin_key } = await tenant(origin);
      const paths = await posts(origin, key, count);
      return {
        headers: { authorization: `Bearer ${admin_key}`, "content-type": "application/json" },
        paths,
        next: editSequence(paths, edits),
      };
    },

    /**
     * Paths of the posts the write set-ups created for `keys` (none for a set-up that did not run).
     * @param {string} origin
     * @param {string[]} keys
     */
    postPaths: async (origin, keys) => {
      const lists = await Promise.all(keys.map((k) => once.get(`posts ${k} ${origin}`) ?? Promise.resolve([])));
      return lists.flat();
    },

    /** `Authorization: Bearer <admin_key>` of the bench tenant (created on first use). */
    apiKeyAuth: async (/** @type {string} */ origin) => {
      const { admin_key } = await tenant(origin);
      return { headers: { authorization: `Bearer ${admin_key}` } };
    },

    /**
     * `Authorization: Bearer <access_token>` from a fresh login of the bench user (registered
     * on first use). Access tokens live 15 minutes (`expires_in`); `validUntil` lets the
     * runner log in again before a measurement that would outlive the token.
     * @returns {Promise<Prepared>}
     */
    jwtAuth: async (/** @type {string} */ origin) => {
      await user(origin);
      const req = loginRequest(email);
      const started = Date.now();
      const tokens = await call(origin, req.path, {
        method: req.method,
        headers: tenantHeaders,
        body: JSON.parse(req.body),
        expect: 200,
      });
      return {
        headers: { authorization: `Bearer ${tokens.access_token}` },
        validUntil: started + Number(tokens.expires_in) * 1000,
      };
    },

    /**
     * The two cases of the login series: the bench user with the right password (200), and an
     * email with no account (401; plinth spends the same Argon2id work on a dummy hash).
     */
    loginCases: async (/** @type {string} */ origin) => {
      await user(origin);
      return [
        { label: "valid credentials", expect: 200, ...loginRequest(email) },
        { label: "unknown email", expect: 401, ...loginRequest("nobody@example.com") },
      ];
    },

    /** The password-reset series: a request for the bench user's email, and one for an unknown email. */
    resetCases: async (/** @type {string} */ origin) => {
      await user(origin);
      const reset = (/** @type {string} */ to) => ({
        path: "/api/v1/auth/password-reset",
        method: "POST",
        headers: { ...tenantHeaders, "content-type": "application/json" },
        body: JSON.stringify({ email: to }),
      });
      return [
        { label: "existing email", expect: 202, ...reset(email) },
        { label: "unknown email", expect: 202, ...reset("nobody@example.com") },
      ];
    },
  };
}
