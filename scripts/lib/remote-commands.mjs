// The remote `plinth` commands: each talks to a plinth URL through the typed
// client, prints a table (or with --json the API's JSON) and exits with one of
// the codes in EXIT. Options are parsed with Node's util.parseArgs.
// The commands themselves live by job in the *-commands.mjs files beside this one; this
// file lists them in the order `plinth --help` shows, and parses, documents and runs them.
import { parseArgs } from "node:util";
import { auditCheck } from "./audit-check-command.mjs";
import { stderrOf } from "./cli-stderr.mjs";
import { cryptoCommands } from "./crypto-commands.mjs";
import { deadLetterCommands } from "./dead-letter-commands.mjs";
import { timeoutMs } from "./duration.mjs";
import { auditExport, openapiExport } from "./export-commands.mjs";
import { jobCommands } from "./job-commands.mjs";
import { keyCommands } from "./key-commands.mjs";
import {
  CliError,
  DEFAULT_TIMEOUT,
  EXIT,
  isPathSegment,
  LONG_TIMEOUT,
  notSegmentMessage,
  rootKeyHint,
  urlOf,
} from "./remote.mjs";
import { auditRebuild, eventsReplay } from "./replay-commands.mjs";
import { tenantCommands } from "./tenant-commands.mjs";
import { webhookCommands } from "./webhook-commands.mjs";

/**
 * @typedef {{ type: "string" | "boolean", multiple?: boolean, short?: string }} Option
 * @typedef {{ values: Record<string, any>, positionals: string[], url: string,
 *   print: (line: string) => void, stderr: import("./cli-stderr.mjs").Stderr,
 *   bounds: Parameters<typeof import("./remote.mjs").connect>[3] }} Run
 * @typedef {{ name: string, args: string, summary: string, auth: "platform" | "tenant" | "either" | "none",
 *   positionals: number, options?: Record<string, Option & { help: string, arg?: string }>,
 *   long?: boolean, pages?: boolean, inBody?: boolean, alsoExit1?: string, run: (run: Run) => Promise<void> }} Command
 *   `long`: one of its requests does a run's worth of work, so each may take LONG_TIMEOUT.
 *   `pages`: it calls the API again until the work is done (a page, a step per call): --timeout
 *   bounds each call, not the run, and its help says so (an operator read it as the run's bound).
 *   `alsoExit1`: when it exits 1 although the API answered 200 (its --help adds the line).
 *   `inBody`: its positional arguments go in the request's body, not its path (a new tenant's slug).
 */

/** @type {Command[]} */
export const commands = [
  ...tenantCommands,
  ...keyCommands,
  ...deadLetterCommands,
  ...webhookCommands,
  eventsReplay,
  ...jobCommands,
  ...cryptoCommands,
  auditExport,
  auditCheck,
  auditRebuild,
  openapiExport,
];

/** `--url`, `--timeout` and `--json`, which every remote command takes. */
const commonOf = (command) => ({
  url: { type: "string", arg: "<url>", help: "the plinth (default $PLINTH_URL, else http://127.0.0.1:8787)" },
  timeout: {
    type: "string",
    arg: "<duration>",
    help: `give up on a request not answered within this (30s, 5m, 1h; default ${timeoutOf(command)}): exit 3${command.pages ? " (each request, not the run: below)" : ""}`,
  },
  json: { type: "boolean", help: jsonHelpOf(command) },
  help: { type: "boolean", short: "h", help: "this help" },
});

/**
 * What --json does to a command's output: "the API's JSON instead of a table" was said of every
 * command, the exports (whose NDJSON or document prints as it is) and the paging commands (which
 * print their run's totals) included.
 */
function jsonHelpOf(command) {
  const failure = "and a failure as one JSON line on stderr";
  if (command.options?.out)
    return `with --out, what was written as JSON (the export itself prints as it is), ${failure}`;
  if (command.pages) return `print the run's totals as JSON instead of its text lines, ${failure}`;
  return `print the API's JSON instead of a table, ${failure}`;
}

/** A command's default bound on each of its requests. */
const timeoutOf = (command) => (command.long ? LONG_TIMEOUT : DEFAULT_TIMEOUT);

/** The `<name>` of each positional argument, as the command's usage spells them. */
const positionalNames = (command) => command.args.split(/ \[| --/)[0].match(/<[^>]+>/g) ?? [];

/**
 * What names the argument that held `value` (`<tenant-id>`, `--tenant`), for a refused path
 * segment: the positional arguments and string options that hold it, else undefined.
 */
function argumentOfIn(command, values, positionals) {
  const names = positionalNames(command);
  return (/** @type {string} */ value) => {
    const held = [
      ...positionals.map((p, i) => [names[i] ?? `argument ${i + 1}`, p]),
      ...Object.entries(values).map(([name, v]) => [`--${name}`, v]),
    ].filter(([, v]) => v === value);
    return held.length > 0 ? held.map(([name]) => name).join(" or ") : undefined;
  };
}
const keyFile = {
  "key-file": { type: "string", arg: "<path>", help: "read the tenant's API key from this file (else $PLINTH_KEY)" },
};

// "either": a tenant's key, or with --tenant <id> the platform root key (the webhook commands).
const optionsOf = (command) => ({
  ...command.options,
  ...(command.auth === "tenant" || command.auth === "either" ? keyFile : {}),
  ...commonOf(command),
});

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
    either:
      "Key: a tenant API key from $PLINTH_KEY or --key-file (never as a flag value: shell history, ps); with --tenant <id>, the platform root key from $PLATFORM_ROOT_KEY (for a local plinth, .dev.vars) instead.",
    none: "Key: none.",
  }[command.auth];
  return [
    `usage: plinth ${command.name}${command.args ? ` ${command.args}` : ""} [--url <url>] [--timeout <duration>] [--json]`,
    "",
    `${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.`,
    "",
    "options:",
    ...options.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`),
    "",
    ...(command.pages
      ? [
          "It calls the API once per page until the work is done: --timeout bounds each of those calls,",
          "not the whole run, which goes on as long as each call answers in time (Ctrl-C stops it).",
          "",
        ]
      : []),
    auth,
    EXIT_HELP,
    ...(command.alsoExit1 ? [`Exit 1 too: ${command.alsoExit1}.`] : []),
  ].join("\n");
}

export const EXIT_HELP =
  "Exit: 0 ok, 1 the API refused (4xx) or failed (5xx), 2 usage, 3 cannot reach the URL, no answer within --timeout, or no plinth answers there, 4 authentication refused (401/403), 5 a bug in plinth (PLINTH_DEBUG=1: with --json, its stack too).";

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
  const usageLine = `plinth ${command.name} ${command.args} (plinth ${command.name} --help)`;
  let parsed;
  try {
    parsed = parseArgs({ args, options: optionsOf(command), allowPositionals: true, strict: true });
  } catch (e) {
    // The arguments did not parse, so neither did --json: look for it as a word.
    stderrOf(args.includes("--json"), error).usage(e.message, usageLine);
    return EXIT.usage;
  }
  const stderr = stderrOf(parsed.values.json === true, error);
  if (parsed.values.help) {
    print(helpOf(command));
    return EXIT.ok;
  }
  if (parsed.positionals.length !== command.positionals) {
    const count = `${command.positionals || "no"} argument${command.positionals === 1 ? "" : "s"}`;
    stderr.usage(`${command.name} takes ${count}`, usageLine);
    return EXIT.usage;
  }
  // Checked before any request: `keys revoke ..` lists the keys before it revokes one.
  const argumentOf = argumentOfIn(command, parsed.values, parsed.positionals);
  const notSegment = command.inBody ? undefined : parsed.positionals.find((p) => !isPathSegment(p));
  if (notSegment !== undefined) {
    stderr.usage(notSegmentMessage(`${argumentOf(notSegment)}`, notSegment), usageLine);
    return EXIT.usage;
  }
  try {
    const url = urlOf(parsed.values.url);
    const spelled = parsed.values.timeout ?? timeoutOf(command);
    const bound = timeoutMs(spelled);
    if ("error" in bound) throw new CliError(bound.error, EXIT.usage);
    const timeout = { ms: bound.ms, spelled, flag: parsed.values.timeout !== undefined };
    const bounds = { timeout, argumentOf };
    const { values, positionals } = parsed;
    await command.run({ values, positionals, url, print, stderr, bounds });
    return EXIT.ok;
  } catch (e) {
    // A bug, not a refusal the CLI expects: under --json still one JSON line, never a stack trace.
    if (!(e instanceof CliError)) return stderr.internal(e);
    // With --json a script reads the API's refusal as JSON too (problem+json, on stderr).
    if (parsed.values.json && e.problem) error(JSON.stringify({ ...e.problem, ...e.fields }));
    else stderr.fail(e.exitCode, e.message, e.fields);
    const asPlatform = command.auth === "platform" || (command.auth === "either" && parsed.values.tenant !== undefined);
    if (asPlatform && e.problem?.status === 401)
      stderr.hint("root_key_mismatch", rootKeyHint(urlOf(parsed.values.url)));
    return e.exitCode;
  }
}
