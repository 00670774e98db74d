// `plinth audit check`: the server recomputes the tenant's audit chain and checks its
// checkpoint signatures, one bounded step per request (GET /api/v1/admin/audit/verify with
// from_seq and limit), so a chain of any length is checked with progress. The request without
// parameters does the whole chain in one, making one object request per 10,000 entries: past the
// plan's subrequest limit (50 on Workers Free, ~450,000 entries) only steps can. `audit verify`
// checks an export offline instead, trusting nothing the server says.
import { asJson, tenant } from "./command-kit.mjs";
import { CliError, call, EXIT } from "./remote.mjs";

/** Entries one step recomputes at most: the API's own bound (AUDIT_VERIFY_MAX). */
export const AUDIT_STEP_MAX = 10_000;

/** A whole number from an option spelled in plain digits (as the API reads from_seq), within bounds. */
function digits(value, flag, min, max) {
  if (value === undefined) return undefined;
  const n = /^[0-9]{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new CliError(`${flag} is a whole number from ${min} to ${max}, in plain digits`, EXIT.usage);
  }
  return n;
}

/** @type {import("./remote-commands.mjs").Command} */
export const auditCheck = {
  name: "audit check",
  args: "[--from-seq <n>] [--step <n>]",
  summary:
    "have the server recompute the tenant's audit chain and check its signatures, a step per request, with progress (exit 1 names the first seq that does not verify)",
  auth: "tenant",
  positionals: 0,
  pages: true,
  long: true,
  options: {
    "from-seq": {
      type: "string",
      arg: "<n>",
      help: "start at this entry, trusting the stored hash of the one before (default 1, the whole chain; an interrupted check says where to go on); exit 1 if it lies past the seq after the chain's last",
    },
    step: {
      type: "string",
      arg: "<n>",
      help: `entries per request, 1 to ${AUDIT_STEP_MAX} (default ${AUDIT_STEP_MAX})`,
    },
  },
  async run(run) {
    const from = digits(run.values["from-seq"], "--from-seq", 1, Number.MAX_SAFE_INTEGER) ?? 1;
    const step = digits(run.values.step, "--step", 1, AUDIT_STEP_MAX) ?? AUDIT_STEP_MAX;
    const client = tenant(run);
    const started = Date.now();
    let next = from;
    let entries = 0;
    let steps = 0;
    for (;;) {
      let report;
      try {
        report = await call(
          run.url,
          client.GET("/api/v1/admin/audit/verify", { params: { query: { from_seq: next, limit: step } } }),
        );
      } catch (error) {
        // What verified so far stays verified: say where to go on, not only what failed.
        if (!(error instanceof CliError) || next === from) throw error;
        throw new CliError(
          `${error.message}\nentries ${from}–${next - 1} verified; go on with: plinth audit check --from-seq ${next}`,
          error.exitCode,
          error.problem,
          { resume_from_seq: next },
        );
      }
      steps++;
      entries += report.entries;
      // The API answers a step past the end ok with nothing read; a check that began there
      // verified nothing, and exit 0 would tell a script otherwise. One past the last entry
      // stays ok: that is where a check that reached the head goes on, and nothing is new yet.
      if (next === from && from > report.last_seq + 1) {
        throw new CliError(
          `--from-seq ${from} is past the end of the chain, which has ${report.last_seq} entries` +
            `${report.last_seq > 0 ? ` (seq 1–${report.last_seq})` : ""}: nothing was verified`,
          EXIT.api,
          undefined,
          { from_seq: from, last_seq: report.last_seq },
        );
      }
      if (!report.ok) {
        throw new CliError(
          `broken at seq ${report.broken_seq}: the chain or a checkpoint there does not verify (checked from seq ${from})`,
          EXIT.api,
          undefined,
          { broken_seq: report.broken_seq, from_seq: from },
        );
      }
      if (!run.values.json) {
        run.print(
          report.entries === 0
            ? `seq ${report.from_seq}: nothing there (the chain ends at seq ${report.last_seq})`
            : `seq ${report.from_seq}–${report.from_seq + report.entries - 1}: ok`,
        );
      }
      if (report.next_from_seq === null) {
        const summary = {
          ok: true,
          from_seq: from,
          entries,
          last_seq: report.last_seq,
          last_hash: report.last_hash,
          steps,
          seconds: Math.round((Date.now() - started) / 100) / 10,
        };
        if (run.values.json) run.print(asJson(summary));
        else {
          run.print(
            entries === 0
              ? `ok: nothing new from seq ${from} (the chain ends at seq ${report.last_seq})`
              : `ok: ${entries} entries from seq ${from} through ${report.last_seq} recomputed, and the checkpoints among them verified (head ${report.last_hash})`,
          );
        }
        return;
      }
      next = report.next_from_seq;
    }
  },
};
