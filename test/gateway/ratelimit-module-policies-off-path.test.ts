// RATE_LIMITS naming a module's policy, judged where the config is loaded off the request path:
// /readyz's mail check, an actor's mail (objectNotifier) and the webhook endpoint's secrets
// (openSecrets). Each loads the config with the platform's needs, as the request path does, so
// one deployment's RATE_LIMITS is judged one way everywhere. Before, these three loaded it with
// the kernel's needs alone and passed a module-shaped name over: a name no module declares
// (`tickets.close`) answered every request 500 config_invalid while an actor's mail went out and
// webhooks were signed under the same config.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createPlatform } from "../../src/app";
import { MIGRATION_TABLES, MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { tenantEnvelopeOf } from "../../src/kernel/crypto/tenant-envelope";
import { ConfigError } from "../../src/kernel/errors/config-error";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { objectNotifier } from "../../src/kernel/notify/notifier";
import { renderMail } from "../../src/kernel/notify/template";
import type { Policy } from "../../src/kernel/ratelimit/policies";
import { modules } from "../../src/modules";
import { openSecrets, secretField } from "../../src/modules/webhooks/secrets";
import { expectProblem, testApp, testRuntime } from "../helpers";
import { mailTo, newTenant } from "../identity/helpers";
import { testResolver } from "../test-resolver";
import { TICKETS_OPEN } from "./helpers";

const OPEN = TICKETS_OPEN;

/** A module that declares one policy: enough for the config to know `tickets.open`. */
const tickets: ModuleDef = { name: "tickets", version: "1.0.0", rate_limits: { "tickets.open": OPEN } };
const withTickets = [...modules, tickets];
const platform = createPlatform({
  modules: withTickets,
  migrations: MIGRATIONS,
  migration_tables: MIGRATION_TABLES,
  resolver: testResolver,
});

/** The suite's RATE_LIMITS with `limits` on top (a new env object each time: the config is parsed afresh). */
function rateLimits(limits: Record<string, Partial<Policy>>): string {
  const current = JSON.parse(String(env.RATE_LIMITS)) as Record<string, Partial<Policy>>;
  return JSON.stringify({ ...current, ...limits });
}
const DECLARED = rateLimits({ "tickets.open": { limit: 1 } });
const UNDECLARED = rateLimits({ "tickets.close": { limit: 1 } });
const envWith = (vars: Record<string, unknown>) => ({ ...env, ...vars }) as Env;
const clock = manualClock("2030-01-01T00:00:00Z");

describe("RATE_LIMITS naming a module's policy, off the request path", () => {
  it("/readyz: the mail check judges a declared name as the request path does; an undeclared one is config_invalid", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const readyz = (vars: Record<string, unknown>) => testApp(withTickets, vars).fetch("/readyz");
    // In production without a provider the check has something to say once it reads the config:
    // it says it, so it took the config as valid, as init did.
    const declared = await readyz({ ENVIRONMENT: "production", RATE_LIMITS: DECLARED });
    const body = (await declared.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.checks.mail?.ok).toBe(false);
    expect(body.checks.mail?.error).toContain("no mail provider");
    const undeclared = await readyz({ ENVIRONMENT: "production", RATE_LIMITS: UNDECLARED });
    const problem = await expectProblem(undeclared, 500, "config_invalid");
    expect(problem.detail).toBe("the server's configuration is invalid: RATE_LIMITS");
  });

  it("an object's notifier sends under a declared name and refuses an undeclared one, naming RATE_LIMITS", async () => {
    const t = await newTenant("rl-mail");
    const mail = (id: string) => ({
      id,
      tenantId: t.id,
      to: "ada@example.com",
      kind: "test.reminder",
      ...renderMail({ tenantName: "Probe", subject: `Reminder ${id}`, paragraphs: [["due"]] }),
    });
    await objectNotifier(envWith({ RATE_LIMITS: DECLARED }), clock, platform.needs).send(mail("rl-declared"));
    expect((await mailTo(t.slug, "ada@example.com", "Reminder rl-declared")).subject).toBe("Reminder rl-declared");

    let error: unknown;
    try {
      await objectNotifier(envWith({ RATE_LIMITS: UNDECLARED }), clock, platform.needs).send(mail("rl-undeclared"));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ variable: "RATE_LIMITS" });
  });

  it("the webhook endpoint opens its secrets under a declared name and refuses an undeclared one, naming RATE_LIMITS", async () => {
    const t = await newTenant("rl-hooks");
    const endpointId = `ep-${crypto.randomUUID()}`;
    const sealed = await tenantEnvelopeOf(testRuntime()).encrypt(t.id, secretField(endpointId), "whsec_x");
    const config = {
      tenant_id: t.id,
      endpoint_id: endpointId,
      url: "https://hooks.example.com/in",
      secrets: [{ sealed, expires_at: null }],
      enabled: true,
      version: 1,
    };
    const opener = (vars: Record<string, unknown>) => ({
      env: envWith(vars),
      clock,
      modules: platform.modules,
      needs: platform.needs,
    });
    const now = clock.now().getTime();
    expect(await openSecrets(opener({ RATE_LIMITS: DECLARED }), config, now)).toEqual(["whsec_x"]);
    await expect(openSecrets(opener({ RATE_LIMITS: UNDECLARED }), config, now)).rejects.toThrow(
      "the configuration is invalid (RATE_LIMITS): webhook secrets cannot be opened",
    );
  });
});
