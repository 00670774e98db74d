// The webhook commands of a tenant admin (tenant key): its endpoints, an endpoint's delivery
// log, the redelivery of what was given up during a receiver's outage, page by page
// (docs/operations.md, "Webhook deliveries given up"), and enabling or disabling an endpoint.
import { pageOptions, pageQuery, printPage, tenant } from "./command-kit.mjs";
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
function disabledHint(error, id) {
  if (error instanceof CliError && error.problem?.code === "endpoint_disabled")
    error.message += `\nenable it first (plinth webhooks enable ${id}), which sends what it kept queued`;
  return error;
}

/** What each state change tells the operator once written. */
const TOLD = {
  enable: (id) => [
    `enabled ${id}: it sends what it kept queued, in order, then new events`,
    `(deliveries it gave up before: plinth webhooks redeliver-failed ${id})`,
  ],
  disable: (id) => [
    `disabled ${id}: it sends nothing, and events from now on are not queued for it`,
    `(to resume: plinth webhooks enable ${id})`,
  ],
};

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
    args: "<endpoint-id>",
    summary: enabled
      ? "enable an endpoint again (disabled by an admin or for failing): it sends what it kept queued"
      : "disable an endpoint: it sends nothing, and events are not queued for it, until enabled again",
    auth: "tenant",
    positionals: 1,
    async run(run) {
      const [id = ""] = run.positionals;
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
        if (run.values.json) return run.print(JSON.stringify(read, null, 2));
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
        throw error;
      });
      if (run.values.json) return run.print(JSON.stringify(written, null, 2));
      for (const line of TOLD[verb](id)) run.print(line);
    },
  };
}

/** @type {import("./remote-commands.mjs").Command[]} */
export const webhookCommands = [
  {
    name: "webhooks endpoints",
    args: "[--limit <n>] [--cursor <cursor>]",
    summary: "the tenant's webhook endpoints (the receiver's host; --json for the URL)",
    auth: "tenant",
    positionals: 0,
    options: pageOptions,
    async run(run) {
      const query = pageQuery(run.values);
      const body = await call(run.url, tenant(run).GET("/api/v1/admin/webhooks", { params: { query } }));
      printPage(run, body, [
        ["id", (e) => e.id],
        ["host", (e) => hostOf(e.url)],
        ["events", (e) => e.events],
        ["enabled", (e) => (e.enabled ? "yes" : `no (${e.disabled_reason ?? "by an admin"})`)],
        ["updated", (e) => e.updated_at],
      ]);
    },
  },
  {
    name: "webhooks deliveries",
    args: "<endpoint-id> [--failed] [--limit <n>] [--cursor <cursor>]",
    summary: "an endpoint's delivery log, latest queued first",
    auth: "tenant",
    positionals: 1,
    options: {
      failed: { type: "boolean", help: "only the deliveries given up (what redeliver-failed sends again)" },
      ...pageOptions,
    },
    async run(run) {
      const [id = ""] = run.positionals;
      const query = { ...pageQuery(run.values), ...(run.values.failed ? { status: "failed" } : {}) };
      const body = await call(
        run.url,
        tenant(run).GET("/api/v1/admin/webhooks/{id}/deliveries", { params: { path: { id }, query } }),
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
    args: "<endpoint-id> [--since <time>]",
    summary: "send an endpoint's given-up deliveries again, oldest first, until none is left",
    auth: "tenant",
    positionals: 1,
    options: {
      since: {
        type: "string",
        arg: "<time>",
        help: "only those given up at or after this time (RFC 3339, e.g. 2026-12-05T06:00:00Z: the outage's start)",
      },
    },
    async run(run) {
      const [id = ""] = run.positionals;
      const { since } = run.values;
      if (since !== undefined && (!RFC3339.test(since) || Number.isNaN(Date.parse(since))))
        throw new CliError(`--since ${since} is not an RFC 3339 time (e.g. 2026-12-05T06:00:00Z)`, EXIT.usage);
      const client = tenant(run);
      const body = since === undefined ? {} : { since };
      let requeued = 0;
      let remaining = 0;
      // The route sends back a page (100 at most) per call: call again while some remain. A call
      // that sends none back while some remain would repeat itself for ever: stop and say so.
      for (;;) {
        const page = await call(
          run.url,
          client.POST("/api/v1/admin/webhooks/{id}/redeliver-failed", { params: { path: { id } }, body }),
        ).catch((error) => {
          throw disabledHint(error, id);
        });
        requeued += page.requeued;
        remaining = page.remaining;
        if (!run.values.json && (page.remaining > 0 || requeued !== page.requeued))
          run.print(`requeued ${page.requeued}, ${page.remaining} remaining`);
        if (page.remaining === 0 || page.requeued === 0) break;
      }
      if (run.values.json) run.print(JSON.stringify({ endpoint_id: id, requeued, remaining }));
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
