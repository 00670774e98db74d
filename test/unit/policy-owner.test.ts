import { describe, expect, it } from "vitest";
import { mayCharge } from "../../src/kernel/ratelimit/owner";

// Which route may charge which policy: the kernel's from any route, a module's from its own.
describe("mayCharge", () => {
  it("lets a module's route charge its own policies and the kernel's", () => {
    expect(mayCharge("tickets", "tickets.open")).toBe(true);
    expect(mayCharge("identity", "login")).toBe(true);
    expect(mayCharge("tickets", "mail")).toBe(true);
  });

  it("refuses another module's policy, a module whose name only begins the same way included", () => {
    expect(mayCharge("desk", "tickets.open")).toBe(false);
    expect(mayCharge("ticket", "tickets.open")).toBe(false);
    expect(mayCharge("tickets", "ticketsx.open")).toBe(false);
  });

  it("refuses nothing where the route's module is not known (no route matched, or the kernel's map)", () => {
    expect(mayCharge(undefined, "tickets.open")).toBe(true);
    expect(mayCharge("kernel", "tickets.open")).toBe(true);
  });
});
