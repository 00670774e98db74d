// `npm run deploy` (scripts/deploy.mjs): what it refuses before it touches Cloudflare, and
// which arguments reach which wrangler command. Nothing here needs an account: every case
// stops before the first remote call, or is a dry run.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configProblems, deployArgs, secretProblems } from "../../scripts/lib/deploy-preflight.mjs";

const root = join(import.meta.dirname, "..", "..");

/** Runs the deploy script with no Cloudflare credentials and telemetry off. */
function deploy(args: string[]) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
  };
  delete env.CLOUDFLARE_API_TOKEN;
  const run = spawnSync(process.execPath, ["scripts/deploy.mjs", ...args], {
    cwd: root,
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: run.status, out: `${run.stdout}\n${run.stderr}` };
}

/**
 * Runs the deploy script against a stand-in for Cloudflare's API (CLOUDFLARE_API_BASE_URL) that
 * lists `secrets` as the Worker's and answers anything else 404; resolves with what it asked.
 */
async function deployAgainst(secrets: string[], args: string[]) {
  const asked: string[] = [];
  const api = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`);
    res.setHeader("content-type", "application/json");
    const listed = req.url?.endsWith("/workers/scripts/plinth-production/secrets");
    res.statusCode = listed ? 200 : 404;
    const result = listed ? secrets.map((name) => ({ name, type: "secret_text" })) : null;
    res.end(
      JSON.stringify({ success: listed, errors: listed ? [] : [{ code: 1, message: "no" }], messages: [], result }),
    );
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  const { port } = api.address() as AddressInfo;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_API_BASE_URL: `http://127.0.0.1:${port}/client/v4`,
    CLOUDFLARE_API_TOKEN: "not-a-real-token",
    CLOUDFLARE_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
  };
  try {
    const child = spawn(process.execPath, ["scripts/deploy.mjs", ...args], { cwd: root, env, stdio: "pipe" });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (out += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    return { code, out, asked };
  } finally {
    api.close();
  }
}

/** wrangler.toml with its production placeholders replaced, as a user would after `d1 create`. */
function configuredToml(edit: (toml: string) => string = (toml) => toml): string {
  const dir = mkdtempSync(join(tmpdir(), "plinth-deploy-"));
  const toml = edit(readFileSync(join(root, "wrangler.toml"), "utf8"))
    .replace(
      `database_id = "00000000-0000-4000-8000-000000000002"`,
      `database_id = "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b"`,
    )
    .replace(
      `name = "plinth-production"\nworkers_dev = false`,
      `name = "plinth-production"\nworkers_dev = false\nroutes = [{ pattern = "api.example.com/*", zone_name = "example.com" }]`,
    )
    .replace(`main = "src/index.ts"`, `main = "${join(root, "src/index.ts")}"`)
    .replace(`migrations_dir = "migrations"`, `migrations_dir = "${join(root, "migrations")}"`);
  const path = join(dir, "wrangler.toml");
  writeFileSync(path, toml);
  return path;
}

describe("npm run deploy", () => {
  it("names an environment wrangler.toml lacks as a usage error (2)", () => {
    const { code, out } = deploy(["--env", "prodution", "--dry-run"]);
    expect(code).toBe(2);
    expect(out).toContain('no environment "prodution" in wrangler.toml (it has staging, production)');
  });

  it("refuses the placeholder D1 id before running any migration", () => {
    const { code, out } = deploy(["--env", "production"]);
    expect(code).toBe(1);
    expect(out).toContain("database_id is the placeholder");
    expect(out).toContain("npx wrangler d1 create plinth-production");
    expect(out).not.toContain("CLOUDFLARE_API_TOKEN");
  });

  it("refuses an environment that lacks a Durable Object binding of the top level, before anything remote", () => {
    // A team adds its actor's binding at the top level: npm start and the tests see it, the deploy would not.
    const production = '[[env.production.durable_objects.bindings]]\nname = "JOB_RUNNER"\nclass_name = "JobRunner"\n';
    const config = configuredToml((toml) => {
      expect(toml).toContain(production);
      return toml.replace(production, "");
    });
    const { code, out } = deploy(["--env", "production", "--config", config]);
    expect(code).toBe(1);
    expect(out).toContain("[env.production] has no Durable Object binding JOB_RUNNER");
    expect(out).not.toContain("could not list the secrets");
  });

  it("refuses, after the dry run's bundle report, a Durable Object class no migration creates", () => {
    // wrangler bundles this without a word; Cloudflare refuses the upload, after D1 was migrated.
    const migration = '[[migrations]]\ntag = "v8"\nnew_sqlite_classes = ["JobRunner"]\n';
    const config = configuredToml((toml) => {
      expect(toml).toContain(migration);
      return toml.replace(migration, "");
    });
    const { code, out } = deploy(["--env", "production", "--config", config, "--dry-run"]);
    expect(code).toBe(1);
    const problem = out.indexOf("Durable Object binding JOB_RUNNER: no [[migrations]] entry creates class JobRunner");
    expect(problem).toBeGreaterThan(out.indexOf("--dry-run: exiting now."));
    expect(out).toContain('tag = "v8"');
    expect(out).toContain("--dry-run: 1 problem above; `npm run deploy -- --env production` refuses until it is fixed");
  });

  it("refuses MAIL_API_KEY among the secrets without MAIL_API_URL and MAIL_FROM in [vars], before migrating D1", async () => {
    // README step 3 puts MAIL_API_KEY; with the two [vars] forgotten, every request answered 500 config_invalid.
    const { code, out, asked } = await deployAgainst(
      ["JWT_SIGNING_KEYS", "MAIL_API_KEY"],
      ["--env", "production", "--config", configuredToml()],
    );
    expect(out).toContain(
      "deploy: MAIL_API_KEY is set without MAIL_API_URL, MAIL_FROM: every request would answer 500 config_invalid",
    );
    expect(code).toBe(1);
    expect(asked).toEqual([
      "GET /client/v4/accounts/0123456789abcdef0123456789abcdef/workers/scripts/plinth-production/secrets",
    ]);
    // The other way round: the provider in [vars], its key never put.
    const withVars = configuredToml((toml) =>
      toml.replace(
        '# MAIL_API_URL = "https://api.example-mail.com/v1/send"\n# MAIL_FROM = "Example <noreply@example.com>"',
        'MAIL_API_URL = "https://api.example-mail.com/v1/send"\nMAIL_FROM = "Example <noreply@example.com>"',
      ),
    );
    expect(readFileSync(withVars, "utf8")).toContain('\nMAIL_FROM = "Example');
    const keyless = await deployAgainst(["JWT_SIGNING_KEYS"], ["--env", "production", "--config", withVars]);
    expect(keyless.out).toContain("deploy: MAIL_API_URL, MAIL_FROM are set without MAIL_API_KEY");
    expect(keyless.code).toBe(1);
    expect(keyless.asked).toHaveLength(1);
  }, 120_000);

  it("refuses a [vars] value the Worker's own config check rejects, naming the variable, before anything remote", () => {
    // wrangler deploys it without a word; then every request answered 500 config_invalid.
    const production =
      '[env.production.vars]\nENVIRONMENT = "production"\nLOG_LEVEL = "info"\nMAX_BODY_BYTES = "1048576"';
    const config = configuredToml((toml) => {
      expect(toml).toContain(production);
      return toml.replace(production, production.replace('"info"', '"verbose"').replace('"1048576"', '"1 MiB"'));
    });
    const { code, out } = deploy(["--env", "production", "--config", config]);
    expect(code).toBe(1);
    expect(out).toContain("deploy: [env.production.vars] LOG_LEVEL: ");
    expect(out).toContain("deploy: [env.production.vars] MAX_BODY_BYTES: ");
    expect(out).not.toContain('"verbose"');
    expect(out).not.toContain("could not list the secrets");
  });

  it("makes a dry run: the bundle, without the remote migrations", () => {
    const config = configuredToml();
    const { code, out } = deploy(["--env", "production", "--config", config, "--dry-run", "--minify"]);
    expect(out).not.toContain("Unknown arguments");
    expect(out).toContain("--dry-run: exiting now.");
    expect(out).toContain("wrangler.toml [env.production] passes; the deploy itself checks the secrets");
    // Its route names no PLATFORM_DOMAIN: deployable, but tenants' hosts name no tenant.
    expect(out).toContain("deploy: warning: [env.production] has routes but no PLATFORM_DOMAIN");
    expect(code).toBe(0);
  });
});

describe("deployArgs", () => {
  it("gives wrangler d1 migrations apply the target only, and wrangler deploy the rest", () => {
    expect(deployArgs(["--env=production", "--minify", "-c", "w.toml", "--keep-vars"])).toEqual({
      env: "production",
      config: "w.toml",
      dryRun: false,
      target: ["--env", "production", "-c", "w.toml"],
      rest: ["--minify", "--keep-vars"],
    });
    expect(deployArgs(["-e", "staging", "--dry-run"])).toMatchObject({ env: "staging", dryRun: true, rest: [] });
  });
});

describe("configProblems", () => {
  const good = {
    workers_dev: false,
    routes: [{ pattern: "*.example.com/*", zone_name: "example.com" }],
    vars: { ENVIRONMENT: "production" },
    triggers: { crons: ["* * * * *"] },
    d1_databases: [
      { binding: "DB", database_name: "plinth-production", database_id: "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b" },
    ],
  };

  it("passes a configured environment", () => {
    expect(configProblems(good, "production")).toEqual([]);
  });

  it("names each binding the top level has and the environment lacks (bindings are not inherited)", () => {
    const top = {
      durable_objects: { bindings: [{ name: "AGGREGATE" }, { name: "REMINDER_CLOCK" }] },
      r2_buckets: [{ binding: "FILES" }],
      queues: { producers: [{ binding: "EVENTS" }, { binding: "MAIL" }] },
      kv_namespaces: [{ binding: "CACHE" }],
    };
    const env = {
      ...good,
      durable_objects: { bindings: [{ name: "AGGREGATE" }] },
      queues: { producers: [{ binding: "EVENTS" }] },
    };
    const problems = configProblems(env, "production", top);
    expect(problems).toEqual([
      expect.stringContaining("[env.production] has no Durable Object binding REMINDER_CLOCK"),
      expect.stringContaining("[env.production] has no R2 bucket binding FILES"),
      expect.stringContaining("[env.production] has no queue producer binding MAIL"),
      expect.stringContaining("[env.production] has no KV namespace binding CACHE"),
    ]);
    expect(problems[0]).toContain("[[env.production.durable_objects.bindings]]");
    expect(configProblems(good, "production", { d1_databases: good.d1_databases })).toEqual([]);
  });

  it("names the other kinds of binding too (Hyperdrive, Analytics Engine, Vectorize, Workflows, AI, Browser)", () => {
    // A module reaching Postgres through Hyperdrive, or writing Analytics Engine points: added at
    // the top level, they too are missing from every [env.*] that does not repeat them.
    const top = {
      hyperdrive: [{ binding: "PG" }],
      analytics_engine_datasets: [{ binding: "STATS" }],
      vectorize: [{ binding: "EMBEDDINGS" }],
      workflows: [{ binding: "ONBOARDING" }],
      ai: { binding: "AI" },
      browser: { binding: "BROWSER" },
    };
    const problems = configProblems({ ...good, hyperdrive: [{ binding: "PG" }] }, "production", top);
    expect(problems).toEqual([
      expect.stringContaining("[env.production] has no Analytics Engine dataset binding STATS"),
      expect.stringContaining("[env.production] has no Vectorize index binding EMBEDDINGS"),
      expect.stringContaining("[env.production] has no Workflow binding ONBOARDING"),
      expect.stringContaining("[env.production] has no Workers AI binding AI"),
      expect.stringContaining("[env.production] has no Browser Rendering binding BROWSER"),
    ]);
    expect(problems[3]).toContain("[env.production.ai]");
    expect(configProblems({ ...good, ...top }, "production", top)).toEqual([]);
  });

  it("names a queue the environment produces to and does not consume, where the top level consumes its own", () => {
    // Consumers are not inherited either: without them the events and mail pile up unread.
    const top = {
      queues: {
        producers: [
          { binding: "EVENTS", queue: "plinth-events" },
          { binding: "PARTNER", queue: "partner-inbox" },
        ],
        consumers: [{ queue: "plinth-events", dead_letter_queue: "plinth-events-dlq" }, { queue: "plinth-events-dlq" }],
      },
    };
    const producers = [
      { binding: "EVENTS", queue: "plinth-production-events" },
      // Another Worker's queue: the top level does not consume it, nor need the environment.
      { binding: "PARTNER", queue: "partner-inbox" },
    ];
    const none = configProblems({ ...good, queues: { producers } }, "production", top);
    expect(none).toEqual([
      expect.stringContaining(
        "[env.production] does not consume queue plinth-production-events (binding EVENTS), which it produces to",
      ),
    ]);
    expect(none[0]).toContain("[[env.production.queues.consumers]]");
    const noDeadLetters = configProblems(
      {
        ...good,
        queues: {
          producers,
          consumers: [{ queue: "plinth-production-events", dead_letter_queue: "plinth-production-events-dlq" }],
        },
      },
      "production",
      top,
    );
    expect(noDeadLetters).toEqual([
      expect.stringContaining(
        "[env.production] does not consume queue plinth-production-events-dlq, the dead-letter queue of plinth-production-events",
      ),
    ]);
    // A consumer without a dead-letter queue drops what fails its retries: the dead-letter store never sees it.
    const noDeadLetterQueue = configProblems(
      { ...good, queues: { producers, consumers: [{ queue: "plinth-production-events" }] } },
      "production",
      top,
    );
    expect(noDeadLetterQueue).toEqual([
      expect.stringContaining(
        "[env.production] consumes queue plinth-production-events with no dead-letter queue, where the top level's goes to plinth-events-dlq",
      ),
    ]);
    const complete = {
      producers,
      consumers: [
        { queue: "plinth-production-events", dead_letter_queue: "plinth-production-events-dlq" },
        { queue: "plinth-production-events-dlq" },
      ],
    };
    expect(configProblems({ ...good, queues: complete }, "production", top)).toEqual([]);
  });

  it("names a Worker with no route, and one that would run as development", () => {
    const problems = configProblems({ ...good, routes: [], vars: { ENVIRONMENT: "development" } }, "production");
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('vars.ENVIRONMENT is "development"');
    expect(problems[1]).toContain("workers_dev = false and no routes");
  });
});

describe("secretProblems", () => {
  it("refuses a Worker without signing keys, and warns of the root, encryption and metrics keys", () => {
    const mail = { MAIL_API_URL: "https://mail.example.net/send", MAIL_FROM: "noreply@example.com" };
    expect(secretProblems(["PLATFORM_ROOT_KEY", "IP_HASH_KEY", "MAIL_API_KEY"], mail)).toEqual({
      errors: [expect.stringContaining("JWT_SIGNING_KEYS is not set")],
      warnings: [
        expect.stringContaining("ENCRYPTION_KEYS is not set"),
        expect.stringContaining("METRICS_TOKEN is not set: GET /metrics answers 401"),
      ],
    });
    const all = ["JWT_SIGNING_KEYS", "PLATFORM_ROOT_KEY", "ENCRYPTION_KEYS", "METRICS_TOKEN", "IP_HASH_KEY"];
    expect(secretProblems([...all, "MAIL_API_KEY"], mail)).toEqual({ errors: [], warnings: [] });
  });

  it("reminds of a previous root key or metrics token still set, and refuses one without its current value", () => {
    const all = ["JWT_SIGNING_KEYS", "PLATFORM_ROOT_KEY", "ENCRYPTION_KEYS", "METRICS_TOKEN", "IP_HASH_KEY"];
    all.push("MAIL_API_KEY", "MAIL_API_URL", "MAIL_FROM");
    expect(secretProblems([...all, "PLATFORM_ROOT_KEY_PREVIOUS", "METRICS_TOKEN_PREVIOUS"])).toEqual({
      errors: [],
      warnings: [
        expect.stringContaining("PLATFORM_ROOT_KEY_PREVIOUS is still set: the old value keeps working"),
        expect.stringContaining("METRICS_TOKEN_PREVIOUS is still set: the old value keeps working"),
      ],
    });
    const withoutCurrent = secretProblems([...all.filter((n) => n !== "METRICS_TOKEN"), "METRICS_TOKEN_PREVIOUS"]);
    expect(withoutCurrent.errors).toEqual([
      expect.stringContaining("METRICS_TOKEN_PREVIOUS is set without METRICS_TOKEN: every request would answer 500"),
    ]);
  });
});
