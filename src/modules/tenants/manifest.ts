/** The `tenants` module: the tenant registry and the platform operators' API. Read by `npm run generate`: imports nothing. */
export const manifest = {
  name: "tenants",
  version: "1.0.0",
  description: "Tenant registry, tenant resolution, and /api/v1/platform for operators.",
  depends_on: { identity: "^1.0.0" },
  base_path: "/platform",
} as const;
