/** The `audit` module: a tamper-evident, hash-chained log of every event, per tenant. Read by `npm run generate`: imports nothing. */
export const manifest = {
  name: "audit",
  version: "1.0.0",
  description: "Tamper-evident audit log: every event in a per-tenant hash chain with signed checkpoints.",
  base_path: "/admin",
  depends_on: { identity: "^1.0.0", tenants: "^1.0.0" },
  permissions: ["admin.audit.read"],
  // The audit log shows every event: the rule for each type no module's own rule covers (the
  // kernel's `authz.denied`, a sign-in that failed), and for a module added that declares none.
  event_read: { "*": "admin.audit.read" },
} as const;
