// `npm run deploy` runs the Worker's own configuration schema (src/kernel/config, with the
// registered modules' variables) over each environment's [vars]: before, it checked only
// ENVIRONMENT, PLATFORM_DOMAIN and the mail pair, so any other bad value (LOG_LEVEL = "verbose",
// a JWT_ISSUER that is no URL, a module's FILES_MAX_BYTES = "lots") deployed, and then every
// request answered 500 config_invalid.
import { beforeAll, describe, expect, it } from "vitest";
import { type ConfigCheck, loadConfigCheck, varsProblems } from "../../scripts/lib/deploy-vars.mjs";

let check: ConfigCheck;
beforeAll(async () => {
  check = await loadConfigCheck();
}, 60_000);

const base = { ENVIRONMENT: "production", PLATFORM_DOMAIN: "example.com" };
const problemsOf = (vars: Record<string, unknown>) => varsProblems(check, vars, "production");

describe("varsProblems: the kernel's configuration schema over an environment's [vars]", () => {
  it("passes [vars] the Worker accepts, the secrets being absent (they are checked once listed)", () => {
    expect(problemsOf(base)).toEqual([]);
    expect(
      problemsOf({
        ...base,
        LOG_LEVEL: "warn",
        MAX_BODY_BYTES: 2_097_152, // a TOML integer arrives as a number
        JWT_ISSUER: "https://example.com",
        MAIL_API_URL: "https://mail.example.net/send",
        MAIL_FROM: "Acme <noreply@example.com>",
        FILES_MAX_BYTES: "1048576",
      }),
    ).toEqual([]);
  });

  it("names each variable the Worker would refuse, with the rule and never the value", () => {
    const problems = problemsOf({
      ...base,
      LOG_LEVEL: "verbose",
      JWT_ISSUER: "issuer-without-scheme",
      RATE_LIMITS: "{not json",
      METRICS_TENANTS: "a b",
    });
    for (const name of ["LOG_LEVEL", "JWT_ISSUER", "RATE_LIMITS", "METRICS_TENANTS"]) {
      expect(problems).toContainEqual(expect.stringContaining(`[env.production.vars] ${name}: `));
    }
    expect(problems).toHaveLength(4);
    expect(problems.join("\n")).toContain("500 config_invalid");
    for (const value of ["verbose", "issuer-without-scheme", "{not json", "a b"]) {
      expect(problems.join("\n")).not.toContain(value);
    }
  });

  it("checks the registered modules' variables too", () => {
    expect(problemsOf({ ...base, FILES_MAX_BYTES: "lots" })).toEqual([
      expect.stringContaining("[env.production.vars] FILES_MAX_BYTES: must be a whole number of bytes"),
    ]);
    expect(problemsOf({ ...base, WEBHOOK_POLICY: "{" })).toEqual([
      expect.stringContaining("[env.production.vars] WEBHOOK_POLICY: "),
    ]);
  });

  it("names a rule across variables that [vars] alone breaks, though it names a variable left unset", () => {
    // MAIL_RETRY_MAX_S defaults to 3600 s: a base above it is refused.
    expect(problemsOf({ ...base, MAIL_RETRY_BASE_S: "3600", MAIL_RETRY_MAX_S: "60" })).toEqual([
      expect.stringContaining("[env.production.vars] MAIL_RETRY_MAX_S: must be at least MAIL_RETRY_BASE_S"),
    ]);
  });

  it("leaves to their own checks the secrets (absent here), ENVIRONMENT, PLATFORM_DOMAIN and the mail pair, and unset module variables", () => {
    // JWT_SIGNING_KEYS absent, MAIL_API_KEY absent: the secret check after `wrangler secret list` says so.
    expect(problemsOf({ ...base, MAIL_API_URL: "https://mail.example.net/send", MAIL_FROM: "a@example.com" })).toEqual(
      [],
    );
    // These have their own messages in configProblems; not said twice.
    expect(problemsOf({ ENVIRONMENT: "prod", PLATFORM_DOMAIN: "Example.com" })).toEqual([]);
    expect(problemsOf({ ...base, MAIL_API_URL: "https://mail.example.net/send" })).toEqual([]);
    // A secret written into [vars] is refused by configProblems; its value is never parsed here.
    expect(problemsOf({ ...base, JWT_SIGNING_KEYS: "not-a-key-set" })).toEqual([]);
  });

  it("checks the GIT_COMMIT the deploy injects, over the one in [vars]", () => {
    expect(
      varsProblems(check, { ...base, GIT_COMMIT: "not a commit" }, "production", { GIT_COMMIT: "abc123" }),
    ).toEqual([]);
    expect(varsProblems(check, base, "production", { GIT_COMMIT: "has spaces" })).toEqual([
      expect.stringContaining("[env.production.vars] GIT_COMMIT: must be a commit id"),
    ]);
  });

  it("checks RATE_LIMITS against the registered modules' own policies: a module's passes, a name none declares is refused", () => {
    const vars = { ...base, RATE_LIMITS: JSON.stringify({ "tickets.open": { limit: 5 } }) };
    // No committed module declares tickets.open: the Worker would answer every request config_invalid.
    expect(varsProblems(check, vars, "production")).toEqual([
      expect.stringContaining("[env.production.vars] RATE_LIMITS: may name only these policies"),
    ]);
    const open = {
      limit: 3,
      period_s: 3600,
      burst: 3,
      mode: "sync",
      on_failure: "closed",
      tenant_override: false,
      max_limit: 3,
    };
    const withTickets = { ...check, moduleRatePolicies: { ...check.moduleRatePolicies, "tickets.open": open } };
    expect(varsProblems(withTickets, vars, "production")).toEqual([]);
  });
});
