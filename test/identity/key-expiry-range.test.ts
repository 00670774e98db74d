// An API key's expires_at may carry an offset. "9999-12-31T23:59:59-23:59" is a date-time the
// route's schema takes, but it falls in the year 10000, which toISOString spells
// "+010000-01-01T…": the key was refused as "in the past" (the "+" sorts before every year), and
// had it got by, the directory's contract (an ISO date-time, years 0000–9999) would have
// refused it with a 500. Found by the contract-bounds audit (x11).

import { describe, expect, it } from "vitest";
import { call, newTenant } from "./helpers";

const create = (token: string, expires_at: string) =>
  call("/api/v1/admin/api-keys", { token, body: { name: "far", scopes: ["blog.post.read"], expires_at } });

describe("an API key's expiry at the end of the calendar", () => {
  it("refuses one past the year 9999 as such, not as in the past", async () => {
    const t = await newTenant("key-expiry");
    const res = await create(t.adminKey, "9999-12-31T23:59:59-23:59");
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe("validation_failed");
    expect(JSON.stringify(res.body.errors)).toContain("body.expires_at");
    expect(String(res.body.detail)).not.toContain("past");
    expect(String(res.body.detail)).toContain("9999");
  });

  it("takes the last instant of 9999, and still refuses a time in the past", async () => {
    const t = await newTenant("key-expiry");
    const last = await create(t.adminKey, "9999-12-31T23:59:59.999Z");
    expect(last.status, JSON.stringify(last.body)).toBe(201);
    expect(last.body.expires_at).toBe("9999-12-31T23:59:59.999Z");
    const past = await create(t.adminKey, "2000-01-01T00:00:00+01:00");
    expect(past.status).toBe(400);
    expect(String(past.body.detail)).toContain("past");
  });
});

describe("an expires_at that is no date-time", () => {
  it("says what it takes, with an example: a date alone was answered only 'Invalid ISO datetime'", async () => {
    // `plinth keys create ci --scope blog.post.read --expires-at 2027-01-01` (a date, no time).
    const t = await newTenant("key-expiry");
    for (const value of ["2027-01-01", "tomorrow", "2027-01-01 00:00:00"]) {
      const res = await create(t.adminKey, value);
      expect(res.status, value).toBe(400);
      expect(res.body.errors, value).toEqual([
        { path: "body.expires_at", message: "must be an RFC 3339 date-time, e.g. 2027-01-01T00:00:00Z" },
      ]);
    }
  });
});
