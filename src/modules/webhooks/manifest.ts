/** The `webhooks` module: signed event delivery to tenants' endpoints. Read by `npm run generate`: imports nothing. */
export const manifest = {
  name: "webhooks",
  version: "1.0.0",
  description: "Signed webhooks (Standard Webhooks) with per-endpoint ordered delivery, retries, breaker and log.",
  base_path: "/admin",
  depends_on: { identity: "^1.0.0", tenants: "^1.0.0" },
  permissions: ["admin.webhooks.read", "admin.webhooks.write"],
} as const;
