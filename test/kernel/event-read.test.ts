import { describe, expect, it } from "vitest";
import { z } from "zod";
import { eventReadRules, readPermission } from "../../src/kernel/modules/event-read";
import { ModuleRegistryError, resolveModules } from "../../src/kernel/modules/registry";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";

/** A module publishing `types`, declaring `permissions` and the `event_read` rules given. */
const publisher = (
  name: string,
  types: [string, ...string[]],
  permissions: string[],
  event_read: Record<string, string>,
): ModuleDef => ({
  name,
  version: "1.0.0",
  permissions,
  event_read,
  events: {
    publishes: z.discriminatedUnion(
      "type",
      types.map((type) => z.object({ type: z.literal(type), data: z.object({}) })) as [
        z.ZodObject<{ type: z.ZodLiteral<string>; data: z.ZodObject<Record<string, never>> }>,
      ],
    ),
  },
});

function problemsOf(defs: ModuleDef[]): string[] {
  try {
    resolveModules(defs);
  } catch (error) {
    expect(error).toBeInstanceOf(ModuleRegistryError);
    return (error as ModuleRegistryError).problems.map((p) => `${p.module}: ${p.problem}`);
  }
  throw new Error("expected the registry to refuse these modules");
}

describe("event_read rules (who may follow which events)", () => {
  it("picks the most specific pattern: an exact type, then the longest prefix, then *", () => {
    const rules = {
      "*": "audit.log.read",
      "orders.*": "orders.order.read",
      "orders.invoice.*": "orders.invoice.read",
      "orders.invoice.paid": "orders.payment.read",
    };
    expect(readPermission(rules, "orders.order.created")).toBe("orders.order.read");
    expect(readPermission(rules, "orders.invoice.sent")).toBe("orders.invoice.read");
    expect(readPermission(rules, "orders.invoice.paid")).toBe("orders.payment.read");
    expect(readPermission(rules, "authz.denied")).toBe("audit.log.read");
    // A prefix matches whole segments only.
    expect(readPermission({ "orders.*": "orders.order.read" }, "ordersx.order.created")).toBeNull();
  });

  it("refuses rules for another module's events or permission, a malformed pattern, and a pattern declared twice", () => {
    const orders = publisher("orders", ["orders.order.created"], ["orders.order.read"], {
      "orders.*": "orders.order.read",
      "orders.invoice.*": "orders.order.read",
      "blog.*": "orders.order.read",
      "authz.*": "orders.order.read",
      "orders.order.created": "billing.invoice.read",
      "orders..*": "orders.order.read",
      "*": "orders.order.read",
    });
    const billing = publisher("billing", ["billing.invoice.sent"], ["billing.invoice.read"], {
      "*": "billing.invoice.read",
      "orders.*": "billing.invoice.read",
    });
    const blog = publisher("blog", ["blog.post.created"], [], {});
    expect(problemsOf([orders, billing, blog])).toEqual([
      'orders: event_read "orders.invoice.*" matches no event type the module publishes (orders.order.created)',
      'orders: event_read "blog.*" matches event types of other modules (blog.post.created)',
      'orders: event_read "authz.*" matches event types of other modules (authz.denied)',
      'orders: event_read "orders.order.created" names "billing.invoice.read", but a module names only permissions it declares',
      'orders: event_read "orders..*" is not an event type, a prefix ending in ".*", or "*"',
      'billing: event_read "*" is already declared by module "orders"',
      'billing: event_read "orders.*" is already declared by module "orders"',
      'billing: event_read "orders.*" matches event types of other modules (orders.order.created)',
    ]);
  });

  // A module of plain D1 rows keeps the scaffold's event_read while it publishes nothing yet (its
  // events come from an actor of its own later: docs/modules.md): the problem said only that the
  // pattern matched nothing, not that the module publishes none, nor what to do.
  it("says what to do when the module publishes no event at all, and which it publishes otherwise", () => {
    const rows: ModuleDef = {
      name: "inventory",
      version: "1.0.0",
      permissions: ["inventory.item.read"],
      event_read: { "inventory.*": "inventory.item.read" },
    };
    expect(problemsOf([rows])).toEqual([
      'inventory: event_read "inventory.*" matches no event type the module publishes, and it publishes none: declare its events in events.publishes, or leave event_read out until it publishes some',
    ]);
  });

  it("covers every event type the platform publishes, the kernel's included, through the audit log's *", () => {
    const rules = eventReadRules(modules);
    expect(rules["*"]).toBe("admin.audit.read");
    expect(readPermission(rules, "authz.denied")).toBe("admin.audit.read");
    expect(readPermission(rules, "identity.login.failed")).toBe("admin.audit.read");
    expect(readPermission(rules, "identity.key.created")).toBe("admin.keys.read");
    expect(readPermission(rules, "identity.role.granted")).toBe("admin.roles.read");
    expect(readPermission(rules, "blog.post.created")).toBe("blog.post.read");
  });
});
