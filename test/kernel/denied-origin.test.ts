import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/kernel/clock";
import { modules } from "../../src/modules";
import { ipHashOf, testApp } from "../helpers";
import { auditOf, type Entry, newKey, newTenant, ORIGIN } from "../identity/helpers";

const START = "2032-05-06T07:08:09.000Z";
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A clock a millisecond later at every reading: two readings in one step show as two times. */
function tickingClock(start: string): Clock & { readings(): number } {
  const at = Date.parse(start);
  let n = 0;
  return { now: () => new Date(at + n++), readings: () => n };
}

/** The time (ms) a newId was made at: its first ten characters, base32 (Crockford). */
const idTime = (id: string) => [...id.slice(0, 10)].reduce((t, ch) => t * 32 + CROCKFORD.indexOf(ch), 0);

describe("a refusal's authz.denied event", () => {
  it("names the key, the request and the address hash, at one reading of the request's clock", async () => {
    const t = await newTenant("denied-origin");
    const key = await newKey(t.adminKey, ["blog.post.read"]);
    const clock = tickingClock(START);
    const { fetch } = testApp(modules, {}, undefined, clock);
    const res = await fetch(`${ORIGIN}/api/v1/users`, {
      headers: {
        authorization: `Bearer ${key.key}`,
        "x-tenant": t.slug,
        "x-request-id": "req-denied-1",
        "cf-connecting-ip": "203.0.113.44",
      },
    });
    expect(res.status, await res.text()).toBe(403);
    const readings = clock.readings();

    const [entry] = (await auditOf(t.adminKey, "authz.denied")) as (Entry & { at: string; ip_hash: string | null })[];
    const ipHash = await ipHashOf(t.id, "203.0.113.44");
    expect(ipHash).toMatch(/^[0-9a-f]{32}$/);
    expect(entry).toMatchObject({
      actor: { kind: "api_key", id: key.id },
      request_id: "req-denied-1",
      ip_hash: ipHash,
      detail: { permission: "identity.user.read", route: "/api/v1/users" },
    });
    const id = String(entry?.target?.split("/").at(-1));
    expect(entry?.target).toBe(`${t.id}/authz.denied/${id}`);
    // The request's clock, not the runtime's: within the readings this request made.
    const at = Date.parse(String(entry?.at));
    expect(at).toBeGreaterThanOrEqual(Date.parse(START));
    expect(at).toBeLessThan(Date.parse(START) + readings);
    // One reading: the event's id is of the very time it says it occurred at.
    expect(new Date(idTime(id)).toISOString()).toBe(entry?.at);
  });
});
