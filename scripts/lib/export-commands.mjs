// The export commands: the tenant's audit chain (tenant key), for `plinth audit verify`,
// and the OpenAPI document (served at --url, or this checkout's generated one).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tenant, writeOut } from "./command-kit.mjs";
import { root } from "./env.mjs";
import { CliError, call, connect, EXIT } from "./remote.mjs";

/** @type {import("./remote-commands.mjs").Command} */
export const auditExport = {
  name: "audit export",
  args: "[--out <file>]",
  summary: "the tenant's whole audit chain as NDJSON with its signed checkpoint, for audit verify",
  auth: "tenant",
  positionals: 0,
  long: true,
  options: {
    out: { type: "string", arg: "<file>", help: "write it to this file instead of printing it" },
  },
  async run(run) {
    const text = `${await call(run.url, tenant(run).GET("/api/v1/admin/audit/export", { parseAs: "text" }))}`;
    // Who did what, with their emails: a tenant's personal data, not for the machine's other users.
    writeOut(run, text, { ownerOnly: true });
  },
};

/** @type {import("./remote-commands.mjs").Command} */
export const openapiExport = {
  name: "openapi export",
  args: "[--out <file>] [--local]",
  summary: "the OpenAPI document served at --url (or, with --local, the generated one)",
  auth: "none",
  positionals: 0,
  options: {
    out: { type: "string", arg: "<file>", help: "write it to this file instead of printing it" },
    local: {
      type: "boolean",
      help: "src/generated/openapi.json of this checkout (npm run generate), no request: not with --url or --timeout",
    },
  },
  async run(run) {
    let text;
    if (run.values.local) {
      // Accepted and ignored, `--local --url <prod>` exported this checkout's document as if it were prod's.
      for (const flag of ["url", "timeout"]) {
        if (run.values[flag] !== undefined)
          throw new CliError(
            `--local reads src/generated/openapi.json of this checkout: --${flag} has no use there (leave out one or the other)`,
            EXIT.usage,
          );
      }
      text = readFileSync(join(root, "src", "generated", "openapi.json"), "utf8");
    } else {
      const doc = await call(
        run.url,
        connect(run.url, undefined, run.stderr.warn, run.bounds).GET("/openapi.json", { parseAs: "text" }),
      );
      text = `${doc}`.endsWith("\n") ? `${doc}` : `${doc}\n`;
    }
    writeOut(run, text);
  },
};
