// `GET /api/v1/admin/audit/verify` without parameters walks the whole chain in steps of 10,000
// entries, one request to the tenant's AuditLog object each: a subrequest of the caller's request,
// which Cloudflare bounds (50 on Workers Free). Past the bound the runtime refuses the next step
// with its own error, and the walk answered a bare 500: nothing said how far it got, nor how to
// go on. Open-source workerd enforces no subrequest limit (src/workerd/server/server.c++), so
// these tests cannot reach it for real: the AuditLog binding is wrapped, as the other audit route
// tests wrap it, so that its `verify` throws what the runtime throws once the budget is spent
// (src/kernel/resilience/subrequest-limit.ts says where that is known from).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { AuditLog } from "../../durable-objects/audit-log";
import { audit } from "../../src/modules/audit";
import { AUDIT_VERIFY_MAX } from "../../src/modules/audit/contract";
import { identity } from "../../src/modules/identity";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { testApp } from "../helpers";
import { callerOf, newTenant } from "../identity/helpers";
import { auditInputs } from "./audit-inputs";

const input = auditInputs("verify-subrequests-ev");

/** The message Cloudflare's runtime throws a subrequest over the limit with, as reported in 2026. */
const OUT_OF_SUBREQUESTS =
  "Too many subrequests by single Worker invocation. To configure this limit, refer to https://developers.cloudflare.com/workers/platform/limits/";
/** The same, as it was reported in 2024. */
const OUT_OF_SUBREQUESTS_2024 = "Too many subrequests.";

type VerifyArgs = { fromSeq?: number; limit?: number };
type VerifyStub = { verify: (args: VerifyArgs, trace?: unknown) => Promise<unknown> };

/**
 * The platform in-process over AuditLog objects of its own (`<tenant>#<suffix>`), whose `verify`
 * goes through to the object `allowed` times and then throws `refusal()` instead, synchronously,
 * as the runtime's check refuses a subrequest before it starts. `verifies` counts the calls.
 */
function refusingPlatform(suffix: string, allowed: number, refusal: () => Error) {
  const name = (tenant: string) => `${tenant}#${suffix}`;
  const seen = { verifies: 0 };
  const namespace = {
    getByName: (tenant: string): VerifyStub => {
      const real = env.AUDIT_LOG.getByName(name(tenant)) as unknown as VerifyStub;
      return {
        verify: (args, trace) => {
          seen.verifies++;
          if (seen.verifies > allowed) throw refusal();
          return trace === undefined ? real.verify(args) : real.verify(args, trace);
        },
      };
    },
  };
  const { fetch } = testApp([system(), tenants(), identity(), audit()], { AUDIT_LOG: namespace });
  return { call: callerOf(fetch), name, seen };
}

/** A log of `n` entries under `name`, appended 500 at a time. */
async function fill(name: string, n: number) {
  const log = env.AUDIT_LOG.getByName(name);
  for (let done = 0; done < n; done += 500)
    await log.append({ events: Array.from({ length: Math.min(500, n - done) }, () => input(name)) });
}

/** Changes the stored entry `seq` of the log `name`, runs `during`, then puts the entry back. */
async function withEntryChanged<T>(name: string, seq: number, during: () => Promise<T>): Promise<T> {
  const stub = env.AUDIT_LOG.getByName(name) as unknown as DurableObjectStub<AuditLog>;
  const sql = (change: string) =>
    runInDurableObject(stub, (_instance: AuditLog, state) => void state.storage.sql.exec(change, seq));
  await sql("update entries set action = action || 'x' where seq = ?");
  try {
    return await during();
  } finally {
    await sql("update entries set action = substr(action, 1, length(action) - 1) where seq = ?");
  }
}

/** Whether a problem's body shows nothing of a stack: no frame, no file of ours. */
function expectNoStack(body: unknown) {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/\bat \S+ \(|\.ts:\d+|\.js:\d+/);
}

describe("GET /api/v1/admin/audit/verify when the request runs out of subrequests", () => {
  it("before the first step: 422 audit_verify_too_long, nothing verified, go on from seq 1", async () => {
    const t = await newTenant("auditsubreq0");
    for (const message of [OUT_OF_SUBREQUESTS, OUT_OF_SUBREQUESTS_2024]) {
      const p = refusingPlatform(crypto.randomUUID(), 0, () => new Error(message));
      await fill(p.name(t.id), 3);
      const res = await p.call("/api/v1/admin/audit/verify", { token: t.adminKey });
      expect(res.status, message).toBe(422);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.body, message).toMatchObject({
        code: "audit_verify_too_long",
        type: "/problems/audit_verify_too_long",
        status: 422,
        entries_verified: 0,
        next_from_seq: 1,
      });
      const detail = String(res.body.detail);
      expect(detail).toContain("no entry was verified");
      expect(detail).toContain("from seq 1");
      expect(detail).toContain("plinth audit check --from-seq 1");
      expect(detail).not.toContain(message);
      expectNoStack(res.body);
      expect(p.seen.verifies).toBe(1);
    }
  });

  describe("over a log longer than one step", () => {
    const t = { id: "", adminKey: "" };
    const suffix = crypto.randomUUID();
    const logName = () => `${t.id}#${suffix}`;

    beforeAll(async () => {
      Object.assign(t, await newTenant("auditsubreq"));
      await fill(logName(), AUDIT_VERIFY_MAX + 1);
    }, 120_000);

    it("after a step: 422 with the entries verified (1 to 10,000, all ok) and next_from_seq, which steps go on from", async () => {
      const p = refusingPlatform(suffix, 1, () => new Error(OUT_OF_SUBREQUESTS));
      const res = await p.call("/api/v1/admin/audit/verify", { token: t.adminKey });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({
        code: "audit_verify_too_long",
        status: 422,
        title: "Audit log too long to verify in one request",
        entries_verified: AUDIT_VERIFY_MAX,
        next_from_seq: AUDIT_VERIFY_MAX + 1,
      });
      expect(res.body).not.toHaveProperty("ok");
      const detail = String(res.body.detail);
      expect(detail).toContain(`from seq 1 through ${AUDIT_VERIFY_MAX} verified, all ok so far`);
      expect(detail).toContain(`?from_seq=${AUDIT_VERIFY_MAX + 1}`);
      expect(detail).toContain(`plinth audit check --from-seq ${AUDIT_VERIFY_MAX + 1}`);
      expectNoStack(res.body);
      expect(p.seen.verifies).toBe(2);

      // What it says to do finishes the walk: a step from next_from_seq, in a request of its own
      // (a budget of its own: another platform over the same objects).
      const next = refusingPlatform(suffix, 1, () => new Error(OUT_OF_SUBREQUESTS));
      const rest = await next.call(`/api/v1/admin/audit/verify?from_seq=${AUDIT_VERIFY_MAX + 1}`, {
        token: t.adminKey,
      });
      expect(rest.status).toBe(200);
      expect(rest.body).toMatchObject({
        ok: true,
        from_seq: AUDIT_VERIFY_MAX + 1,
        entries: 1,
        last_seq: AUDIT_VERIFY_MAX + 1,
        next_from_seq: null,
      });
    }, 60_000);

    it("a fault found before the limit is answered as today: 200, ok false, broken_seq", async () => {
      const p = refusingPlatform(suffix, 1, () => new Error(OUT_OF_SUBREQUESTS));
      const res = await withEntryChanged(logName(), 5000, () =>
        p.call("/api/v1/admin/audit/verify", { token: t.adminKey }),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ok: false, broken_seq: 5000, from_seq: 1, next_from_seq: null });
      expect(p.seen.verifies).toBe(1);
    }, 60_000);

    it("any other error of a step is still a 500 internal, without its message or a stack", async () => {
      const remote = () => Object.assign(new Error(OUT_OF_SUBREQUESTS), { remote: true });
      const refusals: [string, number, () => Error][] = [
        ["a storage failure at the second step", 1, () => new Error("SQLITE_IOERR: disk I/O error at seq 10001")],
        ["a storage failure at the first step", 0, () => new Error("SQLITE_IOERR: disk I/O error at seq 1")],
        // Thrown by the object's own code (`remote`): its request's budget, not this one's.
        ["the object's own subrequest limit", 1, remote],
        ["a TypeError of the same words", 1, () => new TypeError(OUT_OF_SUBREQUESTS)],
      ];
      const lines: string[] = [];
      vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
      for (const [what, allowed, refusal] of refusals) {
        const p = refusingPlatform(suffix, allowed, refusal);
        const res = await p.call("/api/v1/admin/audit/verify", { token: t.adminKey });
        expect(res.status, what).toBe(500);
        expect(res.body, what).toMatchObject({ code: "internal", status: 500 });
        expect(Object.keys(res.body).sort(), what).toEqual(["code", "detail", "request_id", "status", "title", "type"]);
        const text = JSON.stringify(res.body);
        expect(text, what).not.toMatch(/SQLITE|subrequests/i);
        expectNoStack(res.body);
        // The operator reads what failed, with its stack; the client only the request id.
        const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        const failure = logged.find((l) => l.msg === "unhandled error" && l.request_id === res.body.request_id);
        expect(failure?.error_message, what).toBe(refusal().message);
        expect(failure?.stack, what).toContain("verify-whole.ts");
      }
    }, 60_000);
  });
});
