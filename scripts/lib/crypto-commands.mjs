// `plinth crypto reencrypt` and `plinth crypto versions`: retiring an ENCRYPTION_KEYS
// version (docs/operations.md, "Rotating keys"). Both page through the tenants the
// API visits a page at a time, and add up what each page says.
import { asJson, platform } from "./command-kit.mjs";
import { CliError, call, EXIT, table } from "./remote.mjs";

const tenantOption = { tenant: { type: "string", arg: "<id>", help: "only this tenant (default: every tenant)" } };

/** `{ kind: { version: n } }` summed into `into`. */
function addCounts(into, counts) {
  for (const [kind, byVersion] of Object.entries(counts)) {
    into[kind] ??= {};
    for (const [version, n] of Object.entries(byVersion)) into[kind][version] = (into[kind][version] ?? 0) + n;
  }
  return into;
}

/** Every page of a paged crypto call from `start`: `page(after)` answers one; returns the answers in order. */
async function allPages(page, start = undefined) {
  const pages = [];
  let after = start;
  for (;;) {
    const body = await page(after);
    pages.push(body);
    if (body.next === null || body.next === undefined) return pages;
    after = body.next;
  }
}

/**
 * `[version, n]` of each version values are sealed under that ENCRYPTION_KEYS no longer
 * lists, newest first: nothing opens those values until the version is put back.
 */
function unlistedVersions(report, totals) {
  return Object.entries(totals)
    .filter(([version, n]) => n > 0 && !report.configured_versions.includes(Number(version)))
    .sort(([a], [b]) => Number(b) - Number(a));
}

/**
 * Exit 1 when a tenant could not be counted, or some value is sealed under an unlisted version
 * (a script that checks with `crypto versions` before removing a version reads the exit code, and
 * a 0 there said everything counted was readable). Both in one message when both: the failed
 * tenants alone were named before, the values nothing opens left to stdout's verdicts.
 */
function versionProblems(tenants, unlisted) {
  const failed = tenants.filter((t) => t.error !== null);
  const parts = [];
  const fields = {};
  if (failed.length > 0) {
    parts.push(
      `${failed.length} tenant(s) failed; run again once the cause is fixed:`,
      ...failed.map((t) => `  ${t.tenant_id}: ${t.error}`),
    );
    fields.failed = failed.map((t) => ({ tenant_id: t.tenant_id, error: t.error }));
  }
  if (unlisted.length > 0) {
    parts.push(
      "values are sealed under version(s) ENCRYPTION_KEYS no longer lists, so nothing opens them:",
      ...unlisted.map(([version, n]) => `  v${version}: ${n} value(s)`),
      "put each version back in ENCRYPTION_KEYS, then run plinth crypto reencrypt",
    );
    fields.unlisted_versions = Object.fromEntries(unlisted);
  }
  if (parts.length > 0) throw new CliError(parts.join("\n"), EXIT.api, undefined, fields);
}

/**
 * The last stdout line of a reencrypt pass: `done` only when every tenant was re-sealed, since an
 * operator who reads "done" retires the old version.
 */
function summary(total) {
  const resealed = `${total.resealed} value(s) re-sealed under v${total.current_version}`;
  if (total.failed.length === 0) return `done: ${total.tenants} tenant(s), ${resealed}`;
  const ok = total.tenants - total.failed.length;
  return `incomplete: ${resealed} in ${ok} of ${total.tenants} tenant(s); ${total.failed.length} tenant(s) failed`;
}

/**
 * A call that failed: what the calls before it did stays done, and a re-run skips it, so say
 * both rather than leave the progress lines as the only account, with the cursor to go on
 * from (the last answer's `next`, or the `--after` the run started from) so a large install
 * does not read every tenant again. A 4xx on the first call resumes nothing: the same flags
 * would be refused again.
 */
function cutShort(error, pages, start) {
  if (!(error instanceof CliError)) return error;
  const cursor = pages.at(-1)?.next ?? start;
  const serverSide = error.problem?.status === undefined || error.problem.status >= 500;
  const goOn = cursor !== undefined && cursor !== null ? ` --after ${cursor}` : "";
  if (pages.length === 0) {
    if (!goOn || !serverSide) return error;
    return new CliError(`${error.message}\nresume with: plinth crypto reencrypt${goOn}`, error.exitCode, error.problem);
  }
  const version = pages[0].current_version;
  const tenants = pages.flatMap((p) => p.tenants);
  const resealed = tenants.reduce((n, t) => n + t.resealed, 0);
  const account = `stopped after ${tenants.length} tenant(s), ${resealed} value(s) re-sealed under v${version}`;
  const resume = `resume with: plinth crypto reencrypt${goOn} (or run it again from the start: values already under v${version} are skipped)`;
  return new CliError(`${error.message}\n${account}\n${resume}`, error.exitCode, error.problem);
}

/** Up to this many failed tenants get a resume command each; more are resumed by a full re-run. */
const RESUME_COMMANDS = 5;

/** The failed tenants of a reencrypt pass, why, and how to resume it (exit 1). */
function reencryptFailures(total) {
  if (total.failed.length === 0) return;
  const why = total.failed.map((t) => `  ${t.tenant_id}: ${t.error}`);
  const rerun = `plinth crypto reencrypt (values already under v${total.current_version} are skipped)`;
  const resume =
    total.failed.length <= RESUME_COMMANDS
      ? [
          "resume once the cause is fixed:",
          ...total.failed.map((t) => `  plinth crypto reencrypt --tenant ${t.tenant_id}`),
          `or run again for every tenant: ${rerun}`,
        ]
      : [`resume once the cause is fixed: ${rerun}`];
  throw new CliError([`${total.failed.length} tenant(s) failed:`, ...why, ...resume].join("\n"), EXIT.api);
}

/**
 * What to do about each version, by how many values it still seals: every configured one,
 * and any version values are sealed under that ENCRYPTION_KEYS no longer has (removed too
 * early: nothing opens them until it is put back). Counted for one tenant (`--tenant`), a
 * version is never called removable: the other tenants were not counted.
 */
function verdicts(report, totals, tenant) {
  const lines = report.configured_versions.map((version) => {
    const n = totals[String(version)] ?? 0;
    if (version === report.current_version) return `v${version}: ${n} value(s), the current version`;
    // Appended rather than prepended (a hand edit, or staged on purpose): only the first listed
    // seals, so calling it removable, as a retired version, would mislead.
    if (version > report.current_version && n === 0)
      return `v${version}: 0 values: newer than the current v${report.current_version} but listed after it, so nothing seals under it yet (the first listed seals): to make it current, put it first`;
    // A tenant that could not be counted may hold values under any version: no verdict on a partial count.
    if (n === 0 && report.failed.length > 0) return `v${version}: 0 value(s) counted, but not every tenant was`;
    if (n === 0 && tenant !== undefined)
      return `v${version}: 0 values in tenant ${tenant}; the other tenants were not counted: run crypto versions without --tenant before removing it`;
    if (n === 0) return `v${version}: 0 values: no ciphertext needs it, it can be removed from ENCRYPTION_KEYS`;
    return `v${version}: ${n} value(s) still sealed under it: run plinth crypto reencrypt first`;
  });
  for (const [version, n] of unlistedVersions(report, totals))
    lines.push(
      `v${version}: ${n} value(s) sealed under it, but ENCRYPTION_KEYS lacks it: nothing can open them until it is put back (then run plinth crypto reencrypt)`,
    );
  return lines;
}

/** @type {import("./remote-commands.mjs").Command[]} */
export const cryptoCommands = [
  {
    name: "crypto reencrypt",
    args: "[--tenant <id>] [--after <cursor>]",
    summary: "re-seal every value sealed under an older ENCRYPTION_KEYS version (safe to re-run)",
    auth: "platform",
    positionals: 0,
    alsoExit1: "a tenant's values could not be re-sealed (named on stderr, with how to resume); never `done` then",
    pages: true,
    long: true,
    options: {
      ...tenantOption,
      after: { type: "string", arg: "<cursor>", help: "go on after this tenant (a run cut short prints it)" },
    },
    async run(run) {
      const client = platform(run);
      const quiet = run.values.json;
      const sofar = [];
      const start = run.values.after;
      const pages = await allPages(async (after) => {
        const body = { tenant_id: run.values.tenant, after, limit: 20 };
        const answer = await call(run.url, client.POST("/api/v1/platform/crypto/reencrypt", { body }));
        const done = answer.tenants.reduce((n, t) => n + t.resealed, 0);
        if (!quiet && answer.tenants.length > 0) run.print(`${answer.tenants.length} tenant(s): ${done} re-sealed`);
        sofar.push(answer);
        return answer;
      }, start).catch((error) => {
        throw cutShort(error, sofar, start);
      });
      const tenants = pages.flatMap((p) => p.tenants);
      const total = {
        current_version: pages[0]?.current_version ?? null,
        tenants: tenants.length,
        resealed: tenants.reduce((n, t) => n + t.resealed, 0),
        raced: tenants.reduce((n, t) => n + t.raced, 0),
        failed: tenants.filter((t) => t.error !== null).map((t) => ({ tenant_id: t.tenant_id, error: t.error })),
      };
      if (quiet) run.print(asJson(total));
      else {
        run.print(summary(total));
        if (total.raced > 0) run.print(`${total.raced} value(s) changed meanwhile and were left: run it again`);
      }
      reencryptFailures(total);
    },
  },
  {
    name: "crypto versions",
    args: "[--tenant <id>]",
    summary: "how many stored ciphertexts each ENCRYPTION_KEYS version still seals, by field kind",
    auth: "platform",
    positionals: 0,
    alsoExit1:
      "a tenant could not be counted, or values are sealed under a version ENCRYPTION_KEYS no longer lists (each named on stderr)",
    pages: true,
    long: true,
    options: tenantOption,
    async run(run) {
      const client = platform(run);
      const pages = await allPages(async (after) => {
        const query = { tenant_id: run.values.tenant, after, limit: 100 };
        return call(run.url, client.GET("/api/v1/platform/crypto/versions", { params: { query } }));
      });
      const tenants = pages.flatMap((p) => p.tenants);
      const counts = pages.reduce((sum, p) => addCounts(sum, p.counts), {});
      const first = pages[0] ?? { current_version: null, configured_versions: [] };
      const report = {
        current_version: first.current_version,
        configured_versions: first.configured_versions,
        tenants: tenants.length,
        counts,
        failed: tenants.filter((t) => t.error !== null).map((t) => ({ tenant_id: t.tenant_id, error: t.error })),
      };
      const byVersion = {};
      for (const counted of Object.values(counts)) addCounts(byVersion, { all: counted });
      const totals = byVersion.all ?? {};
      if (run.values.json) run.print(asJson(report));
      else {
        const versions = [...new Set(Object.values(counts).flatMap((byVersion) => Object.keys(byVersion)))].sort(
          (a, b) => Number(b) - Number(a),
        );
        const rows = Object.entries(counts).map(([kind, byVersion]) => ({ kind, byVersion }));
        run.print(
          table(rows, [["field kind", (r) => r.kind], ...versions.map((v) => [`v${v}`, (r) => r.byVersion[v] ?? 0])]),
        );
        for (const line of verdicts(report, totals, run.values.tenant)) run.print(line);
      }
      versionProblems(tenants, unlistedVersions(report, totals));
    },
  },
];
