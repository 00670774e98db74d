// `plinth tenants get` and `plinth tenants delete`: reading one tenant (a deletion's
// progress among it) and offboarding one (docs/operations.md, "Offboarding a tenant").
import { asJson, platform } from "./command-kit.mjs";
import { CliError, call, EXIT, record } from "./remote.mjs";

/**
 * What every tenant command prints of a tenant (create adds its admin key): while it is
 * being erased, when and how far too.
 */
export const TENANT_FIELDS = [
  "id",
  "slug",
  "name",
  "plan",
  "status",
  "suspended_at",
  "suspended_reason",
  "deleted_at",
  "erasure_done",
  "version",
  "created_at",
];

/** What a delete destroys, said before it is done: the refusal without --yes prints it. */
const DESTROYS = [
  "its users, API keys, sessions, roles, settings and single sign-on",
  "its key material, so every value sealed for it (webhook and SSO secrets, TOTP seeds) is unreadable",
  "its blog posts, files (R2 objects too), webhook endpoints and pending deliveries",
  // The CLI knows no module's name but plinth's own: a module a team added is erased by its manifest too.
  "the data of every other registered module (plinth modules list): its Durable Objects, tables and aggregates",
  "its audit log and its rows in every read model",
];

/**
 * What `tenants get` adds of a tenant being erased: when the job last tried it and, of tries
 * that failed, how many, at which step and why (an erasure missing its deadline shows here).
 */
export const ERASURE_FIELDS = ["erasure_tried_at", "erasure_failures", "erasure_failed_step", "erasure_error"];

const printTenant = (run, body) =>
  run.print(
    run.values.json
      ? asJson(body)
      : record(body, body.status === "deleting" ? [...TENANT_FIELDS, ...ERASURE_FIELDS] : TENANT_FIELDS),
  );

/** @type {import("./remote-commands.mjs").Command[]} */
export const offboardingCommands = [
  {
    name: "tenants get",
    args: "<tenant-id>",
    summary:
      "one tenant; while it is being deleted, its erasure's progress (erasure_done) and when it was last tried, with its failed tries' count, step and error",
    auth: "platform",
    positionals: 1,
    async run(run) {
      const [id = ""] = run.positionals;
      printTenant(
        run,
        await call(run.url, platform(run).GET("/api/v1/platform/tenants/{id}", { params: { path: { id } } })),
      );
    },
  },
  {
    name: "tenants delete",
    args: "<tenant-id> --yes",
    summary: "delete a tenant and erase all its data (cannot be undone; export its audit log first)",
    auth: "platform",
    positionals: 1,
    options: { yes: { type: "boolean", help: "yes, erase it: without it nothing is done" } },
    async run(run) {
      const [id = ""] = run.positionals;
      if (!run.values.yes) {
        // Said before anything is asked of the API: there is no undo after the answer.
        const lines = [
          `tenants delete erases tenant ${id} for good, a minute after the answer:`,
          ...DESTROYS.map((d) => `  - ${d}`),
          "Its requests answer 404 at once. Keep its audit trail first:",
          `  plinth tenants recover-key ${id}   then, with that key as PLINTH_KEY:`,
          `  plinth audit export --out audit-${id}.ndjson`,
          "Then run again with --yes.",
        ];
        throw new CliError(lines.join("\n"), EXIT.usage);
      }
      const deleted = await call(
        run.url,
        platform(run).DELETE("/api/v1/platform/tenants/{id}", { params: { path: { id } } }),
      );
      printTenant(run, deleted);
      if (!run.values.json)
        run.print(`being erased: watch with plinth tenants get ${id} (404 "was erased at …" once done)`);
    },
  },
];
