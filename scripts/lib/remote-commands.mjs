// The remote `plinth` commands: each talks to a plinth URL through the typed
// client, prints a table (or with --json the API's JSON) and exits with one of
// the codes in EXIT. Options are parsed with Node's util.parseArgs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pageOptions, pageQuery, platform, printPage, printRecord, tenant, writeOut } from "./command-kit.mjs";
import { cryptoCommands } from "./crypto-commands.mjs";
import { deadLetterCommands } from "./dead-letter-commands.mjs";
import { root } from "./env.mjs";
import { CliError, call, connect, EXIT, record, rootKeyHint, table, urlOf } from "./remote.mjs";
import { replay, replayBudget } from "./replay.mjs";
import { offboardingCommands, TENANT_FIELDS } from "./tenant-offboarding.mjs";
import { webhookCommands } from "./webhook-commands.mjs";

/**
 * @typedef {{ type: "string" | "boolean", multiple?: boolean, short?: string }} Option
 * @typedef {{ values: Record<string, any>, positionals: string[], url: string,
 *   print: (line: string) => void }} Run
 * @typedef {{ name: string, args: string, summary: string, auth: "platform" | "tenant" | "none",
 *   positionals: number, options?: Record<string, Option & { help: string, arg?: string }>,
 *   run: (run: Run) => Promise<void> }} Command
 */

/** @type {Command[]} */
export const commands = [
  {
    name: "tenants create",
    args: "<slug> [--name <name>] [--plan <plan>]",
    summary: "create a tenant and its first admin API key (printed once)",
    auth: "platform",
    positionals: 1,
    options: {
      name: { type: "string", arg: "<name>", help: "the tenant's display name (default: the slug)" },
      plan: { type: "string", arg: "<plan>", help: "its plan (default free)" },
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
    summary: "change a tenant's name or plan (a new plan's rate limit applies within 30 s)",
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
        help: "why, for the tenant's administrators (their audit log keeps it; its users never see it)",
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
      run.print(
        run.values.json ? JSON.stringify({ rate_limits_cleared: id }) : `cleared the rate limits of tenant ${id}`,
      );
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
  {
    name: "keys create",
    args: "<name> --scope <permission>... [--expires-at <iso>]",
    summary: "create an API key of the tenant (its secret printed once)",
    auth: "tenant",
    positionals: 1,
    options: {
      scope: {
        type: "string",
        multiple: true,
        arg: "<permission>",
        help: "a permission it holds (repeat; one at least)",
      },
      "expires-at": { type: "string", arg: "<iso>", help: "when it expires (ISO 8601 with offset)" },
    },
    async run(run) {
      const scopes = run.values.scope ?? [];
      if (scopes.length === 0)
        throw new CliError("name one --scope at least (e.g. --scope blog.post.read)", EXIT.usage);
      const body = { name: run.positionals[0] ?? "", scopes, expires_at: run.values["expires-at"] };
      const created = await call(run.url, tenant(run).POST("/api/v1/admin/api-keys", { body }));
      printRecord(run, created, ["id", "name", "prefix", "scopes", "expires_at", "created_at", "key"]);
      if (!run.values.json) run.print("the key is shown once: store it now");
    },
  },
  {
    name: "keys list",
    args: "[--limit <n>] [--cursor <cursor>]",
    summary: "list the tenant's live API keys (without secrets)",
    auth: "tenant",
    positionals: 0,
    options: pageOptions,
    async run(run) {
      const query = pageQuery(run.values);
      const body = await call(run.url, tenant(run).GET("/api/v1/admin/api-keys", { params: { query } }));
      printPage(run, body, [
        ["id", (k) => k.id],
        ["name", (k) => k.name],
        ["prefix", (k) => k.prefix],
        ["scopes", (k) => k.scopes],
        ["expires", (k) => k.expires_at],
        ["last used", (k) => k.last_used_at],
        // When: after a leaked credential, the keys minted since the leak are the ones to revoke.
        ["created", (k) => k.created_at],
        // Whose departure revokes it: deleting a user revokes the keys they created.
        ["created by", (k) => k.created_by],
      ]);
    },
  },
  {
    name: "keys revoke",
    args: "<id>",
    summary: "revoke an API key, with every key it created",
    auth: "tenant",
    positionals: 1,
    async run(run) {
      const [id = ""] = run.positionals;
      const client = tenant(run);
      // The keys it created, and theirs, go with it, but the API answers 204 with nothing: read
      // the live keys first, so the operator answering a leak is told which integrations lost theirs.
      // A key that may revoke but not read keys (admin.keys.write alone) still revokes: the
      // list is only for the report, so a refused read leaves it unknown (null).
      /** @type {{ id: string, name: string, created_by: string }[] | null} */
      let live = [];
      for (let cursor; live; ) {
        // Unreachable: the DELETE below says so, with the CLI's exit code for it.
        const page = await client
          .GET("/api/v1/admin/api-keys", { params: { query: { limit: 100, cursor } } })
          .catch(() => ({ data: undefined }));
        if (!page.data) live = null;
        else {
          live.push(...page.data.items);
          cursor = page.data.next_cursor ?? undefined;
          if (!cursor) break;
        }
      }
      await call(run.url, client.DELETE("/api/v1/admin/api-keys/{id}", { params: { path: { id } } }));
      if (live === null) {
        if (run.values.json) return run.print(JSON.stringify({ revoked: id, with: null }));
        return run.print(`revoked ${id}, with every key it created (this key may not list them: admin.keys.read)`);
      }
      const gone = new Set([id]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const k of live)
          if (!gone.has(k.id) && gone.has(k.created_by)) {
            gone.add(k.id);
            grew = true;
          }
      }
      const cascaded = live.filter((k) => k.id !== id && gone.has(k.id));
      // --json says what was done, as JSON.
      if (run.values.json) return run.print(JSON.stringify({ revoked: id, with: cascaded.map((k) => k.id) }));
      run.print(`revoked ${id}`);
      if (cascaded.length > 0)
        run.print(
          `and with it ${cascaded.length} key(s) it created: ${cascaded.map((k) => `${k.id} (${k.name})`).join(", ")}`,
        );
    },
  },
  ...deadLetterCommands,
  ...webhookCommands,
  {
    name: "events replay",
    args: "<module:subscription> [--tenant <id>] [--rebuild] [--limit <n>] [--max-events <n>] [--after <cursor>]",
    summary: "replay the writers' events to one subscription, page by page, with progress",
    auth: "platform",
    positionals: 1,
    options: {
      tenant: { type: "string", arg: "<id>", help: "only this tenant's streams" },
      rebuild: {
        type: "boolean",
        help: "every event again, not only those the subscription has not seen (audit:log, files:files.files: copied from their objects' state)",
      },
      limit: {
        type: "string",
        arg: "<n>",
        help: "streams (tenants, for a rebuild from state) per call, 1 to 500 (default 50)",
      },
      "max-events": {
        type: "string",
        arg: "<n>",
        help: "events per call at most, 1 to 5000 (default 5000; a longer stream goes on in the next call)",
      },
      after: { type: "string", arg: "<cursor>", help: "go on from where an earlier run stopped (its last `after`)" },
    },
    async run(run) {
      const { limit, maxEvents } = replayBudget(run.values);
      const total = await replay({
        client: platform(run),
        url: run.url,
        consumer: run.positionals[0] ?? "",
        tenant: run.values.tenant,
        rebuild: run.values.rebuild ?? false,
        limit,
        maxEvents,
        after: run.values.after,
        print: run.values.json ? () => {} : run.print,
      });
      if (run.values.json) run.print(JSON.stringify(total, null, 2));
    },
  },
  {
    name: "jobs list",
    args: "",
    summary: "every registered job: cron, next due time, running, last run",
    auth: "platform",
    positionals: 0,
    async run(run) {
      const body = await call(run.url, platform(run).GET("/api/v1/platform/jobs"));
      if (run.values.json) return run.print(JSON.stringify(body, null, 2));
      run.print(
        table(body.items, [
          ["job", (j) => `${j.module}/${j.job}`],
          ["cron", (j) => j.cron],
          ["next due", (j) => j.next_due],
          ["running", (j) => (j.running ? `since ${j.running.started_at}` : null)],
          ["last run", (j) => (j.last_run ? `${j.last_run.outcome} ${j.last_run.finished_at}` : null)],
          ["last success", (j) => j.last_success],
        ]),
      );
    },
  },
  {
    name: "jobs run",
    args: "<module> <job>",
    summary: "run a job now, wait for its run and print what it found (exit 1 when the run failed)",
    auth: "platform",
    positionals: 2,
    async run(run) {
      const [module = "", job = ""] = run.positionals;
      const pending = platform(run).POST("/api/v1/platform/jobs/{module}/{job}/run", {
        params: { path: { module, job } },
      });
      const body = await call(run.url, pending);
      printRecord(run, body, ["outcome", "trigger", "fire_time", "started_at", "duration_ms", "error"]);
      // What the run found (the dead-letter report's counts), which its log line alone said before.
      if (!run.values.json && body.result) {
        run.print("result");
        const fields = Object.keys(body.result);
        if (fields.length > 0) run.print(record(body.result, fields).replace(/^/gm, "  "));
      }
      if (body.outcome !== "ok") throw new CliError(`${module}/${job} ${body.outcome}: ${body.error ?? ""}`, EXIT.api);
    },
  },
  ...cryptoCommands,
  {
    name: "audit export",
    args: "[--out <file>]",
    summary: "the tenant's whole audit chain as NDJSON with its signed checkpoint, for audit verify",
    auth: "tenant",
    positionals: 0,
    options: {
      out: { type: "string", arg: "<file>", help: "write it to this file instead of printing it" },
    },
    async run(run) {
      const text = `${await call(run.url, tenant(run).GET("/api/v1/admin/audit/export", { parseAs: "text" }))}`;
      writeOut(run, text);
    },
  },
  {
    name: "audit rebuild",
    args: "[--tenant <id>] [--limit <n>] [--max-entries <n>] [--after <cursor>]",
    summary:
      "copy the tenants' audit chains into the read model (audit_entries) where rows are missing or differ, page by page, with progress",
    auth: "platform",
    positionals: 0,
    options: {
      tenant: { type: "string", arg: "<id>", help: "only this tenant (default: every tenant, suspended ones too)" },
      limit: { type: "string", arg: "<n>", help: "tenants per call, 1 to 500 (default 50)" },
      "max-entries": {
        type: "string",
        arg: "<n>",
        help: "entries per call at most, 1 to 5000 (default 5000; a longer chain goes on in the next call)",
      },
      after: { type: "string", arg: "<cursor>", help: "go on from where an earlier run stopped (its last `after`)" },
    },
    // `events replay audit:log --rebuild` under the name an auditor looks for.
    async run(run) {
      const { limit, maxEvents } = replayBudget(run.values, "max-entries");
      const total = await replay({
        client: platform(run),
        url: run.url,
        consumer: "audit:log",
        tenant: run.values.tenant,
        rebuild: true,
        limit,
        maxEvents,
        after: run.values.after,
        print: run.values.json ? () => {} : run.print,
      });
      if (run.values.json) run.print(JSON.stringify(total, null, 2));
    },
  },
  {
    name: "openapi export",
    args: "[--out <file>] [--local]",
    summary: "the OpenAPI document served at --url (or, with --local, the generated one)",
    auth: "none",
    positionals: 0,
    options: {
      out: { type: "string", arg: "<file>", help: "write it to this file instead of printing it" },
      local: { type: "boolean", help: "src/generated/openapi.json of this checkout (npm run generate), no request" },
    },
    async run(run) {
      let text;
      if (run.values.local) {
        text = readFileSync(join(root, "src", "generated", "openapi.json"), "utf8");
      } else {
        const doc = await call(run.url, connect(run.url).GET("/openapi.json", { parseAs: "text" }));
        text = `${doc}`.endsWith("\n") ? `${doc}` : `${doc}\n`;
      }
      writeOut(run, text);
    },
  },
];

/** `--url` and `--json`, which every remote command takes. */
const common = {
  url: { type: "string", arg: "<url>", help: "the plinth (default $PLINTH_URL, else http://127.0.0.1:8787)" },
  json: { type: "boolean", help: "print the API's JSON instead of a table" },
  help: { type: "boolean", short: "h", help: "this help" },
};
const keyFile = {
  "key-file": { type: "string", arg: "<path>", help: "read the tenant's API key from this file (else $PLINTH_KEY)" },
};

const optionsOf = (command) => ({ ...command.options, ...(command.auth === "tenant" ? keyFile : {}), ...common });

/** The --help text of one command. */
export function helpOf(command) {
  const options = Object.entries(optionsOf(command)).map(([name, o]) => [
    `--${name}${o.arg ? ` ${o.arg}` : ""}${o.short ? `, -${o.short}` : ""}`,
    o.help,
  ]);
  const width = Math.max(...options.map(([flag]) => flag.length));
  const auth = {
    platform: "Key: the platform root key from $PLATFORM_ROOT_KEY (for a local plinth, .dev.vars).",
    tenant: "Key: a tenant API key from $PLINTH_KEY or --key-file; never as a flag value (shell history, ps).",
    none: "Key: none.",
  }[command.auth];
  return [
    `usage: plinth ${command.name}${command.args ? ` ${command.args}` : ""} [--url <url>] [--json]`,
    "",
    `${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.`,
    "",
    "options:",
    ...options.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`),
    "",
    auth,
    EXIT_HELP,
  ].join("\n");
}

export const EXIT_HELP =
  "Exit: 0 ok, 1 the API refused (4xx) or failed (5xx), 2 usage, 3 cannot reach the URL, 4 authentication refused (401/403).";

/** The command named by `group sub`, if remote. */
export const findCommand = (group, sub) => commands.find((c) => c.name === `${group} ${sub}`);

/**
 * Runs a remote command with its arguments; resolves to its exit code.
 *
 * @param {Command} command
 * @param {string[]} args
 * @param {{ print?: (line: string) => void, error?: (line: string) => void }} [io]
 */
export async function runCommand(command, args, { print = console.log, error = console.error } = {}) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: optionsOf(command), allowPositionals: true, strict: true });
  } catch (e) {
    error(`plinth: ${e.message}`);
    error(`usage: plinth ${command.name} ${command.args} (plinth ${command.name} --help)`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    print(helpOf(command));
    return EXIT.ok;
  }
  if (parsed.positionals.length !== command.positionals) {
    error(
      `plinth: ${command.name} takes ${command.positionals || "no"} argument${command.positionals === 1 ? "" : "s"}`,
    );
    error(`usage: plinth ${command.name} ${command.args} (plinth ${command.name} --help)`);
    return EXIT.usage;
  }
  try {
    const url = urlOf(parsed.values.url);
    await command.run({ values: parsed.values, positionals: parsed.positionals, url, print });
    return EXIT.ok;
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    // With --json a script reads the API's refusal as JSON too (problem+json, on stderr).
    error(parsed.values.json && e.problem ? JSON.stringify(e.problem) : `plinth: ${e.message}`);
    if (command.auth === "platform" && e.problem?.status === 401)
      error(`plinth: ${rootKeyHint(urlOf(parsed.values.url))}`);
    return e.exitCode;
  }
}
