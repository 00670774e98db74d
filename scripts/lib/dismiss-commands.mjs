// The `… dismiss <id> --yes` commands of every kind of dead letter (a tenant's events,
// the platform's events, the platform's mail): each deletes one letter for good, so each
// asks nothing of the API without --yes and points at the replay instead.
import { asJson } from "./command-kit.mjs";
import { CliError, call, connect, EXIT, platformKey, tenantKey } from "./remote.mjs";

/** The --yes of a dismissal: without it nothing is asked of the API, since a dismissed letter is gone for good. */
const dismissOptions = { yes: { type: "boolean", help: "yes, delete it: without it nothing is done" } };

/** Refuses a dismissal without --yes, saying what it would do and what to consider first. */
function confirmDismissal(run, id, { replayCommand, lost }) {
  if (run.values.yes) return;
  const lines = [
    `dismissing deletes dead letter ${id} for good: ${lost} and it is no longer counted.`,
    `If its cause is fixed and it should still apply, replay it instead: ${replayCommand} ${id}`,
    "Then run again with --yes.",
  ];
  throw new CliError(lines.join("\n"), EXIT.usage);
}

/**
 * A dismiss command: `path` is the letter's DELETE route, `replayCommand` what the refusal
 * offers instead, `lost` what dismissing gives up ("its event is never replayed").
 *
 * @example
 * dismissCommand({ name: "mail-dead-letters dismiss", auth: "platform", path: "/api/v1/platform/mail/dead-letters/{id}", … })
 */
export function dismissCommand({ name, summary, auth, path, replayCommand, lost }) {
  return {
    name,
    args: "<id> --yes",
    summary,
    auth,
    positionals: 1,
    options: dismissOptions,
    async run(run) {
      const [id = ""] = run.positionals;
      confirmDismissal(run, id, { replayCommand, lost });
      const key = auth === "platform" ? platformKey(run.url) : tenantKey(run.values["key-file"], run.stderr.warn);
      await call(
        run.url,
        connect(run.url, key, run.stderr.warn, run.bounds).DELETE(path, { params: { path: { id } } }),
      );
      run.print(run.values.json ? asJson({ dismissed: id }) : `dismissed ${id}`);
    },
  };
}
