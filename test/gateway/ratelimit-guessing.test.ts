// Guessing credentials and tenant names: a refusal by authentication or tenant resolution is
// charged to the client address's `auth_failures` bucket, and an address whose failures have
// used it up is answered 429 before its next credential or tenant lookup, from what this isolate
// knows (no limiter call is added to a good request). A credential this isolate has seen succeed
// is not held up by a neighbour's failures behind the same address.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { LOOKUP_STALE_MS } from "../../src/kernel/ratelimit/failures";
import { type Answer, gateway, parseList } from "./helpers";

const sync = { mode: "sync", on_failure: "open" } as const;

/** The suite's D1, with every statement that reads `table` counted. */
function countingDb(table: string) {
  const seen = { reads: 0 };
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") {
        return (sql: string) => {
          if (sql.includes(`"${table}"`)) seen.reads++;
          return target.prepare(sql);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { seen, db };
}

/** An address no other test uses: the failure buckets outlive a test in this isolate and in storage. */
const freshIp = () =>
  `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
const randomKey = () => `plk_test_${crypto.randomUUID().replaceAll("-", "")}`;

function expectRefused(res: Answer) {
  expect(res.status, JSON.stringify(res.body)).toBe(429);
  expect(res.body.code).toBe("rate_limited");
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(parseList(res.headers.get("ratelimit")).auth_failures?.r).toBe(0);
}

describe("guessing credentials and tenant names", () => {
  for (const mode of ["sync", "async"] as const) {
    const failures = { auth_failures: { limit: 3, period_s: 3600, burst: 3, ...sync, mode } };

    it(`answers an address 429 before its next key lookup once its failures used up the allowance (${mode})`, async () => {
      const { seen, db } = countingDb("api_key_index");
      const { call } = gateway(failures, { DB: db });
      const ip = freshIp();
      const guess = () => call("/api/v1/me", { token: randomKey(), headers: { "cf-connecting-ip": ip } });
      const first: Answer[] = [];
      for (let i = 0; i < 3; i++) first.push(await guess());
      expect(first.map((a) => a.status)).toEqual([401, 401, 401]);
      // Each refusal is counted once, in the failure bucket, and says so.
      expect(parseList(first[2]?.headers.get("ratelimit") ?? null)).toEqual({
        auth_failures: { r: 0, t: expect.any(Number) },
      });
      const lookups = seen.reads;
      expect(lookups).toBe(3);
      for (let i = 0; i < 5; i++) expectRefused(await guess());
      // Refused before the key index was read: the guesses cost no D1 lookup.
      expect(seen.reads).toBe(lookups);
      // Another address is not held up.
      const other = await call("/api/v1/me", { token: randomKey(), headers: { "cf-connecting-ip": freshIp() } });
      expect(other.status).toBe(401);
    });

    it(`holds concurrent guesses to the burst: no more lookups under way at once than the allowance (${mode})`, async () => {
      const { seen, db } = countingDb("api_key_index");
      const { call } = gateway(failures, { DB: db });
      const ip = freshIp();
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          call("/api/v1/me", { token: randomKey(), headers: { "cf-connecting-ip": ip } }),
        ),
      );
      // Each guess is charged only once its refusal is known; those under way meanwhile count too.
      expect(seen.reads).toBeLessThanOrEqual(3);
      expect(answers.filter((a) => a.status === 401).length).toBeLessThanOrEqual(3);
      expect(answers.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(17);
    });

    it(`does the same for unknown tenant names and bad access tokens (${mode})`, async () => {
      const { call } = gateway(failures);
      const names = freshIp();
      const tenants: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await call("/api/v1/system/info", {
          tenant: `nobody-${crypto.randomUUID().slice(0, 8)}`,
          headers: { "cf-connecting-ip": names },
        });
        tenants.push(res.status);
      }
      expect(tenants).toEqual([404, 404, 404, 429]);
      const tokens = freshIp();
      const jwts: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await call("/api/v1/me", {
          token: `eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIke2l9In0.${crypto.randomUUID()}`,
          headers: { "cf-connecting-ip": tokens },
        });
        jwts.push(res.status);
      }
      expect(jwts).toEqual([401, 401, 401, 429]);
    });

    it(`does not hold up a credential this isolate has seen succeed behind the same address (${mode})`, async () => {
      const { call, tenant } = gateway(failures);
      const t = await tenant("nat");
      const office = { "cf-connecting-ip": freshIp() };
      // The office's good script has run before its neighbour's typo.
      expect((await call("/api/v1/me", { token: t.adminKey, tenant: t.slug, headers: office })).status).toBe(200);
      for (let i = 0; i < 3; i++) {
        expect((await call("/api/v1/me", { token: randomKey(), headers: office })).status).toBe(401);
      }
      expectRefused(await call("/api/v1/me", { token: randomKey(), headers: office }));
      // The good key, and the tenant it names, are known here: served without a lookup it might abuse.
      const good = await call("/api/v1/me", { token: t.adminKey, tenant: t.slug, headers: office });
      expect(good.status, JSON.stringify(good.body)).toBe(200);
      // A request that names nothing to look up is not held up either.
      expect((await call("/api/v1/system/info", { headers: office })).status).toBe(200);
      // A key this isolate never verified waits with the guesses: the documented bound.
      const created = await call("/api/v1/admin/api-keys", { token: t.adminKey, body: { name: "new", scopes: ["*"] } });
      expect(created.status).toBe(201);
      expectRefused(await call("/api/v1/me", { token: String(created.body.key), headers: office }));
    });

    it(`keys a known credential by its token, so respelling its header takes no other place (${mode})`, async () => {
      const { call, tenant } = gateway(failures);
      const t = await tenant("spelt");
      const office = { "cf-connecting-ip": freshIp() };
      expect((await call("/api/v1/me", { token: t.adminKey, headers: office })).status).toBe(200);
      for (let i = 0; i < 3; i++) {
        expect((await call("/api/v1/me", { token: randomKey(), headers: office })).status).toBe(401);
      }
      expectRefused(await call("/api/v1/me", { token: randomKey(), headers: office }));
      // The same key, its scheme in another case and more spaces: the same credential, known already.
      // Keyed by the header as spelt, each spelling was a new entry of the bounded known-good set, so
      // one valid key sent in 10 000 spellings pushed every neighbour's out of it.
      const respelt = await call("/api/v1/me", { headers: { ...office, authorization: `bEARER   ${t.adminKey}` } });
      expect(respelt.status, JSON.stringify(respelt.body)).toBe(200);
    });
  }
});

describe("lookups under way, when a request never ends", () => {
  it("are counted for LOOKUP_STALE_MS at most: an address is not refused for ever after requests torn down mid-lookup", async () => {
    // A request whose context is torn down mid-lookup (the client went away, a time limit) never
    // resumes, so it never gives its place back. Counted for ever, three of them held every later
    // guess of the address at 429 in this isolate, a known credential excepted.
    let hung = 0;
    const db = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            if (!sql.includes('"api_key_index"') || hung >= 3) return target.prepare(sql);
            hung++;
            const never = () => new Promise<never>(() => {});
            const statement = { bind: () => statement, first: never, all: never, run: never, raw: never };
            return statement;
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const clock = manualClock("2030-01-01T00:00:00Z");
    const failures = { auth_failures: { limit: 3, period_s: 3600, burst: 3, ...sync } };
    const { call } = gateway(failures, { DB: db }, clock);
    const ip = freshIp();
    const guess = () => call("/api/v1/me", { token: randomKey(), headers: { "cf-connecting-ip": ip } });
    for (let i = 0; i < 3; i++) void guess(); // each never ends
    for (let i = 0; i < 50 && hung < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(hung).toBe(3);
    // While they may still end, they count: the burst is under way.
    clock.advance(LOOKUP_STALE_MS - 1);
    expectRefused(await guess());
    // Past the bound they are taken for lost, and the address's next guess is looked up.
    clock.advance(1);
    expect((await guess()).status).toBe(401);
  });
});
