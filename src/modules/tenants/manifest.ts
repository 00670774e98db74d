/** The `tenants` module: the tenant registry and the platform operators' API. */
export const manifest = {
  name: "tenants",
  version: "1.0.0",
  description: "Tenant registry, tenant resolution, and /api/v1/platform for operators.",
  depends_on: { identity: "^1.0.0" },
  base_path: "/platform",
  events: { publishes: ["tenants.tenant.created"] },
} as const;

/** Slugs that would collide with platform hosts when used as subdomains. */
export const RESERVED_SLUGS = new Set(["api", "app", "admin", "docs", "platform", "status", "www", "mail"]);
