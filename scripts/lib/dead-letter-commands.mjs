// The dead-letter commands: a tenant's own events (tenant key), and every tenant's events
// and mail (root key): list, replay, dismiss.

import {
  asJson,
  deadLetterOptions,
  deadLetterQuery,
  pageOptions,
  pageQuery,
  platform,
  printPage,
  tenant,
} from "./command-kit.mjs";
import { dismissCommand } from "./dismiss-commands.mjs";
import { call } from "./remote.mjs";

/**
 * A `… replay <id>` command: POSTs the letter's replay route (`path`, with `{id}`) with the
 * tenant's or the root key, and says which letter went back on its queue.
 */
function replayOne({ name, summary, auth, path }) {
  return {
    name,
    args: "<id>",
    summary,
    auth,
    positionals: 1,
    async run(run) {
      const [id = ""] = run.positionals;
      const client = auth === "tenant" ? tenant(run) : platform(run);
      await call(run.url, client.POST(path, { params: { path: { id } } }));
      run.print(run.values.json ? asJson({ replayed: id }) : `replayed ${id}`);
    },
  };
}

/**
 * A letter's event id: what the queue consumer's `message failed; will retry` log lines
 * carry (`event_id`) with the error that sent it here, so the operator can find the cause
 * (docs/operations.md, "Queues and dead letters"). A malformed message has none.
 */
const eventIdOf = (d) => (d.event && typeof d.event.id === "string" ? d.event.id : null);

/** @type {import("./remote-commands.mjs").Command[]} */
export const deadLetterCommands = [
  {
    name: "dead-letters list",
    args: "[--limit <n>] [--cursor <cursor>]",
    summary: "the tenant's events that exhausted their retries, newest first",
    auth: "tenant",
    positionals: 0,
    options: pageOptions,
    async run(run) {
      const query = pageQuery(run.values);
      const body = await call(run.url, tenant(run).GET("/api/v1/admin/dead-letters", { params: { query } }));
      printPage(run, body, [
        ["id", (d) => d.id],
        ["event id", eventIdOf],
        ["event type", (d) => d.event_type],
        ["attempts", (d) => d.attempts],
        ["received", (d) => d.received_at],
        ["replayed", (d) => d.replayed_at],
        ["claim lapses", (d) => d.replay_claim_lapses_at],
        ["reason", (d) => d.reason],
      ]);
    },
  },
  replayOne({
    name: "dead-letters replay",
    summary: "send a dead letter's event to the events queue again",
    auth: "tenant",
    path: "/api/v1/admin/dead-letters/{id}/replay",
  }),
  dismissCommand({
    name: "dead-letters dismiss",
    summary: "delete a dead letter the tenant will never replay (cannot be undone)",
    auth: "tenant",
    path: "/api/v1/admin/dead-letters/{id}",
    replayCommand: "plinth dead-letters replay",
    lost: "its event is never replayed",
  }),
  {
    name: "event-dead-letters list",
    args: "[--tenant <id>] [--pending] [--limit <n>] [--cursor <cursor>]",
    summary: "every tenant's events that exhausted their retries, newest first, with whose each is",
    auth: "platform",
    positionals: 0,
    options: deadLetterOptions("only this tenant's letters"),
    async run(run) {
      const query = deadLetterQuery(run.values);
      const body = await call(
        run.url,
        platform(run).GET("/api/v1/platform/events/dead-letters", { params: { query } }),
      );
      printPage(run, body, [
        ["id", (d) => d.id],
        ["tenant", (d) => d.tenant_id],
        ["event id", eventIdOf],
        ["event type", (d) => d.event_type],
        ["attempts", (d) => d.attempts],
        ["received", (d) => d.received_at],
        ["replayed", (d) => d.replayed_at],
        ["claim lapses", (d) => d.replay_claim_lapses_at],
        // Its event already applied by every subscription (a catch-up did): replaying it changes nothing.
        ["applied", (d) => (d.already_applied ? "yes" : "")],
        ["reason", (d) => d.reason],
      ]);
    },
  },
  replayOne({
    name: "event-dead-letters replay",
    summary: "send any tenant's dead letter's event to the events queue again (once its cause is fixed)",
    auth: "platform",
    path: "/api/v1/platform/events/dead-letters/{id}/replay",
  }),
  dismissCommand({
    name: "event-dead-letters dismiss",
    summary: "delete any tenant's dead letter nobody will replay (its module is gone, it is already applied)",
    auth: "platform",
    path: "/api/v1/platform/events/dead-letters/{id}",
    replayCommand: "plinth event-dead-letters replay",
    lost: "its event is never replayed",
  }),
  {
    name: "mail-dead-letters list",
    args: "[--tenant <id>] [--pending] [--limit <n>] [--cursor <cursor>]",
    summary:
      "mail the consumer gave up on, or a request could not queue (reason `not queued: …`), newest first (content stays sealed)",
    auth: "platform",
    positionals: 0,
    options: deadLetterOptions("only this tenant's mail"),
    async run(run) {
      const query = deadLetterQuery(run.values);
      const body = await call(run.url, platform(run).GET("/api/v1/platform/mail/dead-letters", { params: { query } }));
      printPage(run, body, [
        ["id", (d) => d.id],
        ["tenant", (d) => d.tenant_id],
        ["kind", (d) => d.kind],
        ["attempts", (d) => d.attempts],
        ["received", (d) => d.received_at],
        ["replayed", (d) => d.replayed_at],
        ["claim lapses", (d) => d.replay_claim_lapses_at],
        ["reason", (d) => d.reason],
      ]);
    },
  },
  replayOne({
    name: "mail-dead-letters replay",
    summary: "put one mail dead letter back on the mail queue (same mail id: the provider drops a repeat)",
    auth: "platform",
    path: "/api/v1/platform/mail/dead-letters/{id}/replay",
  }),
  {
    name: "mail-dead-letters replay-pending",
    args: "[--tenant <id>]",
    summary: "put every mail dead letter not replayed yet back on the mail queue (after an outage is fixed)",
    auth: "platform",
    positionals: 0,
    pages: true,
    options: { tenant: { type: "string", arg: "<id>", help: "only this tenant's mail" } },
    async run(run) {
      let replayed = 0;
      // 100 per call, until the API says none is left.
      for (;;) {
        const body = await call(
          run.url,
          platform(run).POST("/api/v1/platform/mail/replay-dead-letters", {
            body: { limit: 100, tenant_id: run.values.tenant },
          }),
        );
        replayed += body.replayed;
        if (!body.more || body.replayed === 0) break;
      }
      run.print(run.values.json ? asJson({ replayed }) : `replayed ${replayed}`);
    },
  },
  dismissCommand({
    name: "mail-dead-letters dismiss",
    summary:
      "delete a mail dead letter never to be sent (an address that never accepts it, a token long expired; cannot be undone)",
    auth: "platform",
    path: "/api/v1/platform/mail/dead-letters/{id}",
    replayCommand: "plinth mail-dead-letters replay",
    lost: "its mail is never sent",
  }),
];
