// Requests from other Cloudflare Workers: every Worker subrequest from another zone reaches plinth
// with CF-Connecting-IP 2a06:98c0:3600::103 and CF-Worker naming the sending Worker's zone
// (developers.cloudflare.com/fundamentals/reference/http-headers/). Counted by that address, one
// customer's Worker sending bad keys held up the Workers-based integrations of every tenant; counted
// by the zone it names, it holds up its own. The header is believed from that address only.
import { describe, expect, it } from "vitest";
import { type Answer, gateway, parseList } from "./helpers";

const WORKER_ADDRESS = "2a06:98c0:3600::103";

/** A zone no other test names: the failure buckets outlive a test in this isolate and in storage. */
const freshZone = () => `zone-${crypto.randomUUID().slice(0, 8)}.example`;
const freshIp = () =>
  `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
const randomKey = () => `plk_test_${crypto.randomUUID().replaceAll("-", "")}`;

function expectRefused(res: Answer) {
  expect(res.status, JSON.stringify(res.body)).toBe(429);
  expect(res.body.code).toBe("rate_limited");
  expect(parseList(res.headers.get("ratelimit")).auth_failures?.r).toBe(0);
}

describe("requests from other Workers are counted by the zone that sent them", () => {
  for (const mode of ["sync", "async"] as const) {
    const failures = { auth_failures: { limit: 3, period_s: 3600, burst: 3, mode, on_failure: "open" } } as const;

    it(`a Worker whose guesses used up its allowance holds up neither another zone's Worker nor the address (${mode})`, async () => {
      const { call } = gateway(failures);
      const guesser = { "cf-connecting-ip": WORKER_ADDRESS, "cf-worker": freshZone() };
      for (let i = 0; i < 3; i++) {
        expect((await call("/api/v1/me", { token: randomKey(), headers: guesser })).status).toBe(401);
      }
      expectRefused(await call("/api/v1/me", { token: randomKey(), headers: guesser }));
      // Another customer's Worker, from the same address, with a key this isolate has not seen
      // succeed (a new key, another isolate's first request): looked up, not refused with the guesser.
      const neighbour = { "cf-connecting-ip": WORKER_ADDRESS, "cf-worker": freshZone() };
      const other = await call("/api/v1/me", { token: randomKey(), headers: neighbour });
      expect(other.status, JSON.stringify(other.body)).toBe(401);
      // A request from the address without CF-Worker is in the address's bucket, not the guesser's.
      const bare = await call("/api/v1/me", { token: randomKey(), headers: { "cf-connecting-ip": WORKER_ADDRESS } });
      expect(bare.status, JSON.stringify(bare.body)).toBe(401);
    });

    it(`a CF-Worker sent from any other address is ignored: a new value per guess gets no new bucket (${mode})`, async () => {
      const { call } = gateway(failures);
      const ip = freshIp();
      const guess = () =>
        call("/api/v1/me", { token: randomKey(), headers: { "cf-connecting-ip": ip, "cf-worker": freshZone() } });
      for (let i = 0; i < 3; i++) expect((await guess()).status).toBe(401);
      expectRefused(await guess());
    });
  }
});
