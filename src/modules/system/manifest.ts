/** The `system` module: proves the module path and reports what is deployed. */
export const manifest = {
  name: "system",
  version: "1.0.0",
  description: "Platform self-description: version, commit and registered modules.",
} as const;
