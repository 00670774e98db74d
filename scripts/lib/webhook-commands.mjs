// The webhook commands of a tenant admin (tenant key): its endpoints, an endpoint's delivery
// log, the redelivery of what was given up during a receiver's outage, page by page
// (docs/operations.md, "Webhook deliveries given up"), and enabling or disabling an endpoint.
// With --tenant <id> an operator runs the same with the platform root key,
// through /api/v1/platform/tenants/<id>/webhooks: no key of the tenant is needed.
import { asJson, pageOptions, pageQuery, platform, printPage, tenant } from "./command-kit.mjs";
import { CliError, call, EXIT } from "./remote.mjs";

/** RFC 3339 with an offset, as the route's `since` takes it: refused here before any request. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A receiver URL's host: its path and query often carry a token, which a terminal need not show. */
function hostOf(/** @type {string} */ url) {
  try {
    return new URL(url).host;
  } catch {
    return "?";
  }
}

/** A 409 endpoint_disabled, with the one step that unblocks it. */
function disabledHint(error, id, tenantId) {
  if (error instanceof CliError && error.problem?.code === "endpoint_disabled")
    error.message += `\nenable it first (plinth webhooks enable ${id}${asTenant(tenantId)}), which sends what it kept queued`;
  return error;
}

/** `--tenant <id>`: the commands an operator runs for a tenant with the root key. */
const tenantOption = {
  tenant: {
    type: "string",
    arg: "<id>",
    help: "that tenant's endpoints, as the platform operator: with the root key, no key of the tenant",
  },
};

/** `--reason <why>` of the platform's disabling: shown to the tenant's admins with the endpoint. */
const reasonOption = {
  reason: {
    type: "string",
    arg: "<why>",
    help: "with --tenant: why, for the tenant's admins (the endpoint's disabled_note, 1-200 characters): what to fix, whom to ask; no secrets",
  },
};

/** An endpoint's state in a table: who or what disabled it, and the platform's reason. */
function enabledCell(e) {
  if (e.enabled) return "yes";
  if (e.disabled_reason === "platform") return `no (by the platform${e.disabled_note ? `: ${e.disabled_note}` : ""})`;
  return `no (${e.disabled_reason ?? "by an admin"})`;
}

/**
 * Where a command's calls go: the tenant's own routes with its key, or, with --tenant, the
 * platform's routes for that tenant with the root key. `path` holds the tenant's id for the latter.
 */
function routesOf(run) {
  const tenantId = run.values.tenant;
  if (tenantId === undefined) return { client: tenant(run), base: "/api/v1/admin/webhooks", path: {} };
  if (run.values["key-file"] !== undefined)
    throw new CliError("--tenant acts with the platform root key: leave out --key-file", EXIT.usage);
  return {
    client: platform(run),
    base: "/api/v1/platform/tenants/{tenant_id}/webhooks",
    path: { tenant_id: tenantId },
  };
}

/** ` --tenant <id>` when the command ran for a tenant as the platform, so a suggested command does too. */
const asTenant = (tenantId) => (tenantId === undefined ? "" : ` --tenant ${tenantId}`);

/** What each state change tells the operator once written. */
const TOLD = {
  enable: (id, tenantId) => [
    `enabled ${id}: it sends what it kept queued, in order, then new events`,
    `(deliveries it gave up before: plinth webhooks redeliver-failed ${id}${asTenant(tenantId)})`,
  ],
  disable: (id, tenantId) => [
    `disabled ${id}: it sends nothing, and events from now on are not queued for it`,
    `(to resume: plinth webhooks enable ${id}${asTenant(tenantId)})`,
  ],
};

/** The endpoint `id` as the tenant's list shows it (the platform has no route for one), or null. */
async function listed(run, id) {
  const { client, base, path } = routesOf(run);
  let cursor;
  do {
    const page = await call(
      run.url,
      client.GET(base, { params: { path, query: { limit: 100, ...(cursor ? { cursor } : {}) } } }),
    );
    const found = page.items.find((e) => e.id === id);
    if (found) return found;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return null;
}

/**
 * `webhooks enable|disable <id> --tenant <tenant-id>`: the platform's route reads the endpoint
 * and writes over the version it read (a change in between is a 412), and answers one already
 * in that state as it is, which it answers alike: so the endpoint is read first, and one that
 * was in that state and kept its version is told as such (nothing was written).
 *
 * @param {"enable" | "disable"} verb
 */
async function toggleAsPlatform(run, id, verb) {
  const { client, base, path } = routesOf(run);
  const before = await listed(run, id);
  // The operator's reason goes to the endpoint (its `disabled_note`), for the tenant's admins.
  const reason = run.values.reason;
  const body = verb === "disable" && reason !== undefined ? { body: { reason } } : {};
  const written = await call(
    run.url,
    client.POST(`${base}/{id}/${verb}`, { params: { path: { ...path, id } }, ...body }),
  );
  if (run.values.json) return run.print(asJson(written));
  if (before?.enabled === written.enabled && before?.version === written.version)
    return run.print(`${id} is already ${verb}d`);
  for (const line of TOLD[verb](id, run.values.tenant)) run.print(line);
}

/**
 * `webhooks enable|disable <id>`: PATCH {enabled} with If-Match the version a GET just read, so
 * an admin's change in between is a 412 to look at, not overwritten. An endpoint already in
 * that state is left as it is (no write, no new version, no audit entry).
 *
 * @param {"enable" | "disable"} verb
 * @returns {import("./remote-commands.mjs").Command}
 */
function toggle(verb) {
  const enabled = verb === "enable";
  return {
    name: `webhooks ${verb}`,
    // --tenant in the usage line and the lists too: the runbook runs it so (docs/operations.md).
    args: enabled ? "<endpoint-id> [--tenant <id>]" : "<endpoint-id> [--tenant <id> [--reason <why>]]",
    summary: enabled
      ? "enable an endpoint again (disabled by an admin or for failing; one the platform disabled: --tenant, root key only): it sends what it kept queued"
      : "disable an endpoint: it sends nothing, and events are not queued for it, until enabled again",
    auth: "either",
    positionals: 1,
    // An operator enables (the runbook's step), and disables an endpoint whose traffic must stop
    // (a receiver flooded or abused) without suspending the tenant or minting a key of it.
    options: enabled ? tenantOption : { ...tenantOption, ...reasonOption },
    async run(run) {
      const [id = ""] = run.positionals;
      if (run.values.tenant !== undefined) return toggleAsPlatform(run, id, verb);
      // The tenant's own PATCH keeps no reason: its admins see who disabled it in their audit log.
      if (run.values.reason !== undefined)
        throw new CliError(
          "--reason is the platform's, for the tenant's admins: give it with --tenant <id>",
          EXIT.usage,
        );
      const client = tenant(run);
      const params = { path: { id } };
      let etag = null;
      const read = await call(
        run.url,
        client.GET("/api/v1/admin/webhooks/{id}", { params }).then((result) => {
          etag = result.response.headers.get("etag");
          return result;
        }),
      );
      if (read.enabled === enabled) {
        if (run.values.json) return run.print(asJson(read));
        return run.print(`${id} is already ${verb}d`);
      }
      const written = await call(
        run.url,
        client.PATCH("/api/v1/admin/webhooks/{id}", {
          params: { ...params, header: { "if-match": etag ?? `"${read.version}"` } },
          body: { enabled },
        }),
      ).catch((error) => {
        if (error instanceof CliError && error.problem?.status === 412)
          error.message += `\nthe endpoint changed since it was read (version ${read.version}): look at it again (plinth webhooks endpoints) before running the command again`;
        // Only the platform enables an endpoint it disabled: the detail names its reason.
        if (error instanceof CliError && error.problem?.code === "endpoint_disabled_by_platform")
          error.message += `\nask the platform's operators to enable it once the cause is fixed (they run: plinth webhooks enable ${id} --tenant <tenant-id>)`;
        throw error;
      });
      if (run.values.json) return run.print(asJson(written));
      for (const line of TOLD[verb](id)) run.print(line);
    },
  };
}

/** @type {import("./remote-commands.mjs").Command[]} */
export const webhookCommands = [
  {
    name: "webhooks endpoints",
    args: "[--tenant <id>] [--limit <n>] [--cursor <cursor>]",
    summary: "the tenant's webhook endpoints (the receiver's host; --json for the URL)",
    auth: "either",
    positionals: 0,
    options: { ...pageOptions, ...tenantOption },
    async run(run) {
      const query = pageQuery(run.values);
      const { client, base, path } = routesOf(run);
      const body = await call(run.url, client.GET(base, { params: { path, query } }));
      printPage(run, body, [
        ["id", (e) => e.id],
        ["host", (e) => hostOf(e.url)],
        // Filters matching no event type published here (a module removed since) receive nothing.
        ["events", (e) => e.events.map((f) => ((e.unknown_events ?? []).includes(f) ? `${f}(unknown)` : f))],
        // Types its filters match but read with a permission it was not checked for: not sent to it.
        ["held back", (e) => e.held_back_types ?? []],
        ["enabled", enabledCell],
        ["updated", (e) => e.updated_at],
      ]);
    },
  },
  {
    name: "webhooks deliveries",
    args: "<endpoint-id> [--failed] [--tenant <id>] [--limit <n>] [--cursor <cursor>]",
    summary: "an endpoint's delivery log, latest queued first",
    auth: "either",
    positionals: 1,
    options: {
      failed: { type: "boolean", help: "only the deliveries given up (what redeliver-failed sends again)" },
      ...pageOptions,
      ...tenantOption,
    },
    async run(run) {
      const [id = ""] = run.positionals;
      const query = { ...pageQuery(run.values), ...(run.values.failed ? { status: "failed" } : {}) };
      const { client, base, path } = routesOf(run);
      const body = await call(
        run.url,
        client.GET(`${base}/{id}/deliveries`, { params: { path: { ...path, id }, query } }),
      );
      printPage(run, body, [
        ["id", (d) => d.id],
        ["event type", (d) => d.event_type],
        ["status", (d) => d.status],
        ["attempts", (d) => d.attempts],
        ["response", (d) => d.response_status],
        ["updated", (d) => d.updated_at],
        ["last error", (d) => d.last_error],
      ]);
    },
  },
  {
    name: "webhooks redeliver-failed",
    args: "<endpoint-id> [--since <time>] [--tenant <id>]",
    summary: "send an endpoint's given-up deliveries again, oldest first, until none is left",
    auth: "either",
    positionals: 1,
    alsoExit1: "failed deliveries remain that were not requeued (run it again)",
    pages: true,
    options: {
      since: {
        type: "string",
        arg: "<time>",
        help: "only those given up at or after this time (RFC 3339, e.g. 2026-12-05T06:00:00Z: the outage's start)",
      },
      ...tenantOption,
    },
    async run(run) {
      const [id = ""] = run.positionals;
      const { since } = run.values;
      if (since !== undefined && (!RFC3339.test(since) || Number.isNaN(Date.parse(since))))
        throw new CliError(`--since ${since} is not an RFC 3339 time (e.g. 2026-12-05T06:00:00Z)`, EXIT.usage);
      const { client, base, path } = routesOf(run);
      const body = since === undefined ? {} : { since };
      let requeued = 0;
      let remaining = 0;
      // The route sends back a page (100 at most) per call: call again while some remain. A call
      // that sends none back while some remain would repeat itself for ever: stop and say so.
      for (;;) {
        const page = await call(
          run.url,
          client.POST(`${base}/{id}/redeliver-failed`, { params: { path: { ...path, id } }, body }),
        ).catch((error) => {
          throw disabledHint(error, id, run.values.tenant);
        });
        requeued += page.requeued;
        remaining = page.remaining;
        if (!run.values.json && (page.remaining > 0 || requeued !== page.requeued))
          run.print(`requeued ${page.requeued}, ${page.remaining} remaining`);
        if (page.remaining === 0 || page.requeued === 0) break;
      }
      if (run.values.json) run.print(asJson({ endpoint_id: id, requeued, remaining }));
      else
        run.print(
          requeued === 0 && remaining === 0
            ? `no failed deliveries of ${id}${since === undefined ? "" : ` given up since ${since}`}`
            : `requeued ${requeued} failed deliveries of ${id}, oldest first, with their webhook-id unchanged`,
        );
      if (remaining > 0)
        throw new CliError(`${remaining} failed deliveries were not requeued: run the command again`, EXIT.api);
    },
  },
  toggle("enable"),
  toggle("disable"),
];
