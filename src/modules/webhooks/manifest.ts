/** The `webhooks` module: signed event delivery to tenants' endpoints. Read by `npm run generate`: imports nothing. */
export const manifest = {
  name: "webhooks",
  version: "1.0.0",
  description: "Signed webhooks (Standard Webhooks) with per-endpoint ordered delivery, retries, breaker and log.",
  // Routes under /admin (the tenant's) and /platform (the operators', by tenant): see index.ts.
  base_path: "",
  depends_on: { identity: "^1.0.0", tenants: "^1.0.0" },
  permissions: ["admin.webhooks.read", "admin.webhooks.write"],
  // Endpoints' URLs and hosts, as their list shows them.
  event_read: { "webhooks.*": "admin.webhooks.read" },
} as const;
