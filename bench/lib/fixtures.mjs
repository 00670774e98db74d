/**
 * plinth fixtures: the data a scenario needs before it is measured (a tenant and its admin
 * key, a registered user, an access token), created through plinth's own HTTP API against
 * the started Worker. Each is created at most once per origin and shared by every scenario
 * that asks for it, so the order and the selection of scenarios do not matter.
 */

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
 */

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

  return {
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
  };
}
