// The pure decider of operators' tenant changes: what changes, what is recorded, and
// that a repeat (an operator's retry) records nothing.
import { describe, expect, it } from "vitest";
import { decideTenantChange, type TenantState } from "../../src/modules/identity/directory/tenant-state";

const active: TenantState = {
  id: "t1",
  slug: "acme",
  name: "Acme",
  plan: "free",
  status: "active",
  suspended_at: null,
  suspended_reason: null,
  version: 1,
};
const NOW = "2026-12-05T00:00:00.000Z";

describe("decideTenantChange", () => {
  it("records only the fields that differ, with their new values", () => {
    const { next, event } = decideTenantChange(active, { kind: "update", name: "Acme", plan: "pro" }, NOW);
    expect(next).toEqual({ ...active, plan: "pro", version: 2 });
    expect(event?.event).toEqual({
      type: "tenants.tenant.updated",
      data: { id: "t1", name: "Acme", plan: "pro", fields: ["plan"] },
    });
    expect(event?.audit).toEqual({ fields: ["plan"], plan: "pro" });
  });

  it("an update to the same values records nothing", () => {
    expect(decideTenantChange(active, { kind: "update", name: "Acme", plan: "free" }, NOW)).toEqual({
      next: active,
      event: null,
    });
  });

  it("suspends with the time and reason; a second suspension keeps the first", () => {
    const first = decideTenantChange(active, { kind: "suspend", reason: "unpaid" }, NOW);
    expect(first.next).toMatchObject({
      status: "suspended",
      suspended_at: NOW,
      suspended_reason: "unpaid",
      version: 2,
    });
    expect(first.event?.event).toEqual({ type: "tenants.tenant.suspended", data: { id: "t1", reason: "unpaid" } });
    expect(first.event?.audit).toEqual({ reason: "unpaid" });
    const again = decideTenantChange(first.next, { kind: "suspend", reason: null }, "2026-12-06T00:00:00.000Z");
    expect(again).toEqual({ next: first.next, event: null });
  });

  it("resumes a suspended tenant, clearing time and reason; resuming an active one records nothing", () => {
    const suspended = decideTenantChange(active, { kind: "suspend", reason: null }, NOW).next;
    const resumed = decideTenantChange(suspended, { kind: "resume" }, NOW);
    expect(resumed.next).toEqual({ ...active, version: 3 });
    expect(resumed.event?.event).toEqual({ type: "tenants.tenant.resumed", data: { id: "t1" } });
    expect(decideTenantChange(active, { kind: "resume" }, NOW)).toEqual({ next: active, event: null });
  });
});
