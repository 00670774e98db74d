// The API key commands of a tenant admin (tenant key): creating a key (its secret printed
// once), listing the live ones or showing one, and revoking one with every key it created.
import { asJson, pageOptions, pageQuery, printPage, printRecord, tenant } from "./command-kit.mjs";
import { CliError, call, EXIT } from "./remote.mjs";

/**
 * A key's scopes for the table, those no module of the deployment declares (their module was
 * removed: they grant nothing, `unknown_scopes`) marked `(unknown)`, and those its creator no
 * longer holds whole (`withheld_scopes`: of them the key grants only what the creator still
 * holds, so a `*` or `blog.*` may still grant much) marked `(withheld)`.
 */
const scopesMarked = (key) => {
  const unknown = new Set(key.unknown_scopes ?? []);
  const withheld = new Set(key.withheld_scopes ?? []);
  return key.scopes.map((s) => {
    const marks = [unknown.has(s) ? "unknown" : null, withheld.has(s) ? "withheld" : null].filter(Boolean);
    return marks.length > 0 ? `${s}(${marks.join(",")})` : s;
  });
};

/** The text lines `keys show` adds for a key's flagged scopes, by field (the API leaves each out when empty). */
const FLAGGED_SCOPES = {
  unknown_scopes: "no module declares them: they grant nothing",
  withheld_scopes: "its creator no longer holds them whole: of these the key grants only what its creator still holds",
};

/** @type {import("./remote-commands.mjs").Command[]} */
export const keyCommands = [
  {
    name: "keys create",
    args: "<name> --scope <permission>... [--expires-at <iso>]",
    summary: "create an API key of the tenant (its secret printed once)",
    auth: "tenant",
    positionals: 1,
    inBody: true,
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
        ["scopes", (k) => scopesMarked(k)],
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
    name: "keys show",
    args: "<id>",
    summary: "show one live API key of the tenant (without its secret)",
    auth: "tenant",
    positionals: 1,
    async run(run) {
      const [id = ""] = run.positionals;
      const key = await call(run.url, tenant(run).GET("/api/v1/admin/api-keys/{id}", { params: { path: { id } } }));
      // Only a key holding some has the line: the API leaves the field out otherwise.
      const flagged = Object.keys(FLAGGED_SCOPES).filter((field) => (key[field] ?? []).length > 0);
      const shown = run.values.json
        ? key
        : {
            ...key,
            ...Object.fromEntries(flagged.map((f) => [f, `${key[f].join(",")} (${FLAGGED_SCOPES[f]})`])),
          };
      printRecord(run, shown, [
        "id",
        "name",
        "prefix",
        "scopes",
        ...flagged,
        "expires_at",
        "last_used_at",
        "created_at",
        "created_by",
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
        if (run.values.json) return run.print(asJson({ revoked: id, with: null }));
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
      if (run.values.json) return run.print(asJson({ revoked: id, with: cascaded.map((k) => k.id) }));
      run.print(`revoked ${id}`);
      if (cascaded.length > 0)
        run.print(
          `and with it ${cascaded.length} key(s) it created: ${cascaded.map((k) => `${k.id} (${k.name})`).join(", ")}`,
        );
    },
  },
];
