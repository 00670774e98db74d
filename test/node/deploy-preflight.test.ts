// What `npm run deploy` (scripts/lib/deploy-preflight.mjs) refuses or warns of in an environment
// that wrangler itself deploys without a word, and which then fails at Cloudflare or answers every
// request 500: a Durable Object class no migration creates, a secret written into [vars], a
// PLATFORM_DOMAIN no route serves, a cron trigger that skips the jobs' minutes, a mail provider
// half set between [vars] and the secrets.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DNS_NAME } from "../../scripts/lib/deploy-domain.mjs";
import { configProblems, configWarnings, secretProblems } from "../../scripts/lib/deploy-preflight.mjs";

const good = {
  workers_dev: false,
  routes: [
    { pattern: "example.com/*", zone_name: "example.com" },
    { pattern: "*.example.com/*", zone_name: "example.com" },
  ],
  vars: { ENVIRONMENT: "production", PLATFORM_DOMAIN: "example.com" },
  triggers: { crons: ["* * * * *"] },
  d1_databases: [
    { binding: "DB", database_name: "plinth-production", database_id: "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b" },
  ],
  durable_objects: { bindings: [{ name: "JOB_RUNNER", class_name: "JobRunner" }] },
  migrations: [{ tag: "v1", new_sqlite_classes: ["JobRunner"] }],
};

describe("configProblems: Durable Object classes and their migrations", () => {
  it("names a bound class that no [[migrations]] entry creates (Cloudflare refuses the upload)", () => {
    const config = {
      ...good,
      durable_objects: {
        bindings: [
          { name: "JOB_RUNNER", class_name: "JobRunner" },
          { name: "REMINDERS", class_name: "ReminderClock" },
        ],
      },
    };
    const problems = configProblems(config, "production");
    expect(problems).toEqual([
      expect.stringContaining("Durable Object binding REMINDERS: no [[migrations]] entry creates class ReminderClock"),
    ]);
    expect(problems[0]).toContain('tag = "v2"');
  });

  it("follows renames and deletions, and leaves another Worker's class to that Worker", () => {
    const bindings = [
      { name: "JOB_RUNNER", class_name: "Scheduler" },
      { name: "OLD", class_name: "Gone" },
      { name: "REMOTE", class_name: "Elsewhere", script_name: "other-worker" },
    ];
    const migrations = [
      { tag: "v1", new_sqlite_classes: ["JobRunner", "Gone"] },
      { tag: "v2", renamed_classes: [{ from: "JobRunner", to: "Scheduler" }], deleted_classes: ["Gone"] },
    ];
    const problems = configProblems({ ...good, durable_objects: { bindings }, migrations }, "production");
    expect(problems).toEqual([expect.stringContaining("binding OLD: class Gone was deleted by migration v2")]);
  });
});

describe("configProblems: secrets, routes, cron", () => {
  it("passes a configured production environment", () => {
    expect(configProblems(good, "production")).toEqual([]);
    expect(configWarnings(good, "production")).toEqual([]);
  });

  it("refuses a secret written into [vars], naming it and never its value", () => {
    const problems = configProblems(
      { ...good, vars: { ...good.vars, PLATFORM_ROOT_KEY: "s3cr3t-value-0123456789abcdefghij" } },
      "production",
    );
    expect(problems).toEqual([expect.stringContaining("PLATFORM_ROOT_KEY is in [env.production.vars]")]);
    expect(problems[0]).toContain("npx wrangler secret put PLATFORM_ROOT_KEY --env production");
    expect(problems.join("")).not.toContain("s3cr3t");
  });

  it("refuses a PLATFORM_DOMAIN that the routes do not serve, and its tenants' subdomains", () => {
    const apexOnly = configProblems(
      { ...good, routes: [{ pattern: "example.com/*", zone_name: "example.com" }] },
      "production",
    );
    expect(apexOnly).toEqual([expect.stringContaining("no route serves the tenants' hosts *.example.com")]);
    const other = configProblems(
      { ...good, routes: ["api.example.org/*", { pattern: "*.example.org/*", zone_name: "example.org" }] },
      "production",
    );
    expect(other).toEqual([
      expect.stringContaining("no route serves PLATFORM_DOMAIN example.com"),
      expect.stringContaining("no route serves the tenants' hosts *.example.com"),
    ]);
    // workers.dev only: the tokens' issuer https://example.com would answer nowhere.
    expect(configProblems({ ...good, workers_dev: true, routes: [] }, "production")).toHaveLength(2);
    // One wildcard without the dot covers both; a Custom Domain serves the apex; a scheme is allowed.
    expect(configProblems({ ...good, routes: ["*example.com/*"] }, "production")).toEqual([]);
    const custom = [{ pattern: "example.com", custom_domain: true }, "https://*.example.com/*"];
    expect(configProblems({ ...good, routes: custom }, "production")).toEqual([]);
    // A route for part of the paths does not serve the API.
    const partial = ["example.com/api/*", "*.example.com/*"];
    expect(configProblems({ ...good, routes: partial }, "production")).toEqual([
      expect.stringContaining("no route serves PLATFORM_DOMAIN example.com"),
    ]);
  });

  it("refuses a PLATFORM_DOMAIN the Worker would reject (a URL, upper case), instead of looking for its routes", () => {
    for (const domain of ["https://example.com", "Example.com", "example.com."]) {
      const problems = configProblems({ ...good, vars: { ...good.vars, PLATFORM_DOMAIN: domain } }, "production");
      expect(problems).toEqual([
        expect.stringContaining(
          `[env.production.vars] PLATFORM_DOMAIN ${JSON.stringify(domain)} is not a lower-case DNS name (such as example.com,`,
        ),
      ]);
    }
  });

  it("checks PLATFORM_DOMAIN with the kernel's own rule", () => {
    const kernel = readFileSync(join(import.meta.dirname, "../../src/kernel/config/index.ts"), "utf8");
    expect(kernel).toContain(`PLATFORM_DOMAIN: z\n    .string()\n    .regex(\n      /${DNS_NAME.source}/,`);
  });

  it("warns of routes without PLATFORM_DOMAIN: tenants' subdomains name no tenant", () => {
    const vars = { ENVIRONMENT: "production" };
    expect(configProblems({ ...good, vars }, "production")).toEqual([]);
    expect(configWarnings({ ...good, vars }, "production")).toEqual([
      expect.stringContaining("[env.production] has routes but no PLATFORM_DOMAIN"),
    ]);
    expect(configWarnings({ ...good, vars, workers_dev: true, routes: [] }, "staging")).toEqual([]);
  });

  it("refuses cron triggers without the one-minute tick the jobs run from", () => {
    const hourly = configProblems({ ...good, triggers: { crons: ["0 * * * *"] } }, "production");
    expect(hourly).toEqual([expect.stringContaining('[env.production] triggers.crons lacks "* * * * *"')]);
    expect(configProblems({ ...good, triggers: { crons: [] } }, "production")).toHaveLength(1);
  });

  it("refuses MAIL_API_URL without MAIL_FROM in [vars] (config_invalid on every request)", () => {
    const vars = { ...good.vars, MAIL_API_URL: "https://mail.example.net/send" };
    expect(configProblems({ ...good, vars }, "production")).toEqual([
      expect.stringContaining("[env.production.vars] sets MAIL_API_URL without MAIL_FROM"),
    ]);
  });
});

describe("secretProblems with the environment's [vars]", () => {
  const all = ["JWT_SIGNING_KEYS", "PLATFORM_ROOT_KEY", "ENCRYPTION_KEYS", "METRICS_TOKEN", "IP_HASH_KEY"];
  const mailVars = { MAIL_API_URL: "https://mail.example.net/send", MAIL_FROM: "noreply@example.com" };

  it("refuses MAIL_API_KEY without MAIL_API_URL and MAIL_FROM, and the other way round", () => {
    // README step 3 puts MAIL_API_KEY; forgetting the two [vars] answered every request 500 config_invalid.
    const keyOnly = secretProblems([...all, "MAIL_API_KEY"], { ENVIRONMENT: "production" });
    expect(keyOnly.errors).toEqual([
      expect.stringContaining("MAIL_API_KEY is set without MAIL_API_URL, MAIL_FROM: every request would answer 500"),
    ]);
    const varsOnly = secretProblems(all, { ENVIRONMENT: "production", ...mailVars });
    expect(varsOnly.errors).toEqual([
      expect.stringContaining("MAIL_API_URL, MAIL_FROM are set without MAIL_API_KEY: every request would answer 500"),
    ]);
    expect(secretProblems([...all, "MAIL_API_KEY"], mailVars)).toEqual({ errors: [], warnings: [] });
  });

  it("refuses READ_MODEL_AUTH_TOKEN without READ_MODEL_URL", () => {
    const { errors } = secretProblems([...all, "MAIL_API_KEY", "READ_MODEL_AUTH_TOKEN"], mailVars);
    expect(errors).toEqual([expect.stringContaining("READ_MODEL_AUTH_TOKEN is set without READ_MODEL_URL")]);
    const withUrl = { ...mailVars, READ_MODEL_URL: "libsql://db.example.net" };
    expect(secretProblems([...all, "MAIL_API_KEY", "READ_MODEL_AUTH_TOKEN"], withUrl).errors).toEqual([]);
  });

  it("says what goes without ENCRYPTION_KEYS: webhooks, two-factor, single sign-on, signed file URLs", () => {
    const [warning] = secretProblems(
      all.filter((n) => n !== "ENCRYPTION_KEYS"),
      {
        ...mailVars,
        MAIL_API_KEY: "set",
      },
    ).warnings;
    for (const feature of ["webhooks", "two-factor authentication", "single sign-on", "signed file URLs"]) {
      expect(warning).toContain(feature);
    }
  });

  it("says what goes unkeyed when neither IP_HASH_KEY nor PLATFORM_ROOT_KEY is set", () => {
    const { warnings } = secretProblems(
      ["JWT_SIGNING_KEYS", "ENCRYPTION_KEYS", "METRICS_TOKEN", "MAIL_API_KEY"],
      mailVars,
    );
    const ipHash = warnings.find((w) => w.startsWith("secret IP_HASH_KEY"));
    expect(ipHash).toContain("nor PLATFORM_ROOT_KEY: no ip_hash is recorded, idempotency fingerprints are unkeyed");
    expect(ipHash).not.toContain("keyed by PLATFORM_ROOT_KEY");
  });

  it("warns of no mail provider and of no IP_HASH_KEY", () => {
    const { errors, warnings } = secretProblems(
      ["JWT_SIGNING_KEYS", "PLATFORM_ROOT_KEY", "ENCRYPTION_KEYS", "METRICS_TOKEN"],
      {},
    );
    expect(errors).toEqual([]);
    expect(warnings).toEqual([
      expect.stringContaining("secret IP_HASH_KEY is not set"),
      expect.stringContaining("no mail provider (MAIL_API_URL, MAIL_API_KEY, MAIL_FROM): mail is never sent"),
    ]);
  });
});
