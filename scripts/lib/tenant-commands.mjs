// The tenant commands of the platform operator (root key): creating, listing, changing,
// suspending and resuming tenants, clearing their own rate limits and recovering their admin
// key (reading and offboarding one: tenant-offboarding.mjs).
import { asJson, pageOptions, pageQuery, platform, printPage, printRecord } from "./command-kit.mjs";
import { CliError, call, EXIT } from "./remote.mjs";
import { offboardingCommands, TENANT_FIELDS } from "./tenant-offboarding.mjs";

/** @type {import("./remote-commands.mjs").Command[]} */
export const tenantCommands = [
  {
    name: "tenants create",
    args: "<slug> [--name <name>] [--plan <plan>]",
    summary: "create a tenant and its first admin API key (printed once)",
    auth: "platform",
    positionals: 1,
    inBody: true,
    options: {
      name: { type: "string", arg: "<name>", help: "the tenant's display name (default: the slug)" },
      plan: { type: "string", arg: "<plan>", help: "its plan: free, pro or enterprise (default free)" },
    },
    async run(run) {
      const [slug] = run.positionals;
      const body = { slug, name: run.values.name ?? slug, plan: run.values.plan ?? "free" };
      const created = await call(run.url, platform(run).POST("/api/v1/platform/tenants", { body }));
      printRecord(run, created, [...TENANT_FIELDS, "admin_key"]);
      if (!run.values.json) run.print("the admin key is shown once: store it now (e.g. as PLINTH_KEY)");
    },
  },
  {
    name: "tenants list",
    args: "[--limit <n>] [--cursor <cursor>]",
    summary: "list tenants",
    auth: "platform",
    positionals: 0,
    options: pageOptions,
    async run(run) {
      const query = pageQuery(run.values);
      const body = await call(run.url, platform(run).GET("/api/v1/platform/tenants", { params: { query } }));
      printPage(run, body, [
        ["id", (t) => t.id],
        ["slug", (t) => t.slug],
        ["name", (t) => t.name],
        ["plan", (t) => t.plan],
        ["status", (t) => t.status],
        ["created", (t) => t.created_at],
      ]);
    },
  },
  ...offboardingCommands,
  {
    name: "tenants update",
    args: "<tenant-id> [--name <name>] [--plan <plan>]",
    summary: "change a tenant's name or plan (a new plan's rate limits apply within 30 s)",
    auth: "platform",
    positionals: 1,
    options: {
      name: { type: "string", arg: "<name>", help: "its new display name" },
      plan: { type: "string", arg: "<plan>", help: "its new plan (free, pro, enterprise)" },
    },
    async run(run) {
      const [id = ""] = run.positionals;
      const { name, plan } = run.values;
      // Nothing to change is the caller's slip, told before asking the API.
      if (name === undefined && plan === undefined) throw new CliError("name --name or --plan (or both)", EXIT.usage);
      const body = { ...(name === undefined ? {} : { name }), ...(plan === undefined ? {} : { plan }) };
      const changed = await call(
        run.url,
        platform(run).PATCH("/api/v1/platform/tenants/{id}", { params: { path: { id } }, body }),
      );
      printRecord(run, changed, TENANT_FIELDS);
    },
  },
  {
    name: "tenants suspend",
    args: "<tenant-id> [--reason <reason>]",
    summary: "suspend a tenant: its every request answers 403 tenant_suspended until it is resumed",
    auth: "platform",
    positionals: 1,
    options: {
      reason: {
        type: "string",
        arg: "<reason>",
        help: "why, for the tenant's administrators (their audit log keeps it; its users never see it); a tenant suspended already keeps its reason, and another is refused (exit 1): resume it, then suspend it again",
      },
    },
    async run(run) {
      const [id = ""] = run.positionals;
      const body = run.values.reason === undefined ? {} : { reason: run.values.reason };
      const suspended = await call(
        run.url,
        platform(run).POST("/api/v1/platform/tenants/{id}/suspend", { params: { path: { id } }, body }),
      );
      printRecord(run, suspended, TENANT_FIELDS);
    },
  },
  {
    name: "tenants resume",
    args: "<tenant-id>",
    summary: "resume a suspended tenant",
    auth: "platform",
    positionals: 1,
    async run(run) {
      const [id = ""] = run.positionals;
      const resumed = await call(
        run.url,
        platform(run).POST("/api/v1/platform/tenants/{id}/resume", { params: { path: { id } } }),
      );
      printRecord(run, resumed, TENANT_FIELDS);
    },
  },
  {
    name: "tenants reset-limits",
    args: "<tenant-id>",
    summary: "clear a tenant's own rate limits, so its plan's apply again (a limit it set too low to undo)",
    auth: "platform",
    positionals: 1,
    async run(run) {
      const [id = ""] = run.positionals;
      await call(
        run.url,
        platform(run).DELETE("/api/v1/platform/tenants/{id}/rate-limits", { params: { path: { id } } }),
      );
      // The API answers 204 with nothing: --json says what was done, as JSON.
      run.print(run.values.json ? asJson({ rate_limits_cleared: id }) : `cleared the rate limits of tenant ${id}`);
    },
  },
  {
    name: "tenants recover-key",
    args: "<tenant-id> [--name <name>]",
    summary: "issue a tenant a new admin API key holding every permission (recovery; printed once)",
    auth: "platform",
    positionals: 1,
    options: {
      name: { type: "string", arg: "<name>", help: 'the key\'s name (default "recovery")' },
    },
    async run(run) {
      const [id = ""] = run.positionals;
      const body = { name: run.values.name ?? "recovery" };
      const issued = await call(
        run.url,
        platform(run).POST("/api/v1/platform/tenants/{id}/admin-keys", { params: { path: { id } }, body }),
      );
      printRecord(run, issued, ["id", "name", "prefix", "scopes", "created_at", "key"]);
      if (!run.values.json) run.print("the key is shown once: store it now (e.g. as PLINTH_KEY)");
    },
  },
];
