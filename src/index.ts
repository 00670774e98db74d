import { createPlatform } from "./app";
import { MIGRATIONS } from "./generated/migrations";
import { createQueueHandler } from "./kernel/events/queue";
import { createScheduledHandler } from "./kernel/jobs/scheduled";
import { modules } from "./modules";

// Composed once per isolate; an invalid module registry fails here, at
// start-up (and so at `wrangler deploy`), not on a request.
const platform = createPlatform({ modules, migrations: MIGRATIONS });

export default {
  fetch: platform.app.fetch,
  queue: createQueueHandler(platform.modules),
  scheduled: createScheduledHandler(platform.modules),
} satisfies ExportedHandler<Env>;

export { Aggregate } from "../durable-objects/aggregate";
export { AuditLog } from "../durable-objects/audit-log";
// Durable Object classes: every class wrangler.toml binds is exported here.
export { TenantDirectory } from "../durable-objects/tenant-directory";
