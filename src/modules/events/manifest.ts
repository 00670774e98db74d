/** The `events` module: the dead-letter admin API over the kernel's queue consumer. Read by `npm run generate`: imports nothing. */
export const manifest = {
  name: "events",
  version: "1.0.0",
  description: "Inspect and replay events that exhausted their retries.",
  base_path: "/admin",
  permissions: ["admin.events.read", "admin.events.write"],
} as const;
