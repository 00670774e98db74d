import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { ConfigError } from "../../src/kernel/errors/config-error";
import { objectNotifier } from "../../src/kernel/notify/notifier";
import { mailTo, newTenant } from "../identity/helpers";
import { clockProbeClock } from "./clock-probe";

// Mail from a Durable Object: a reminder actor mails when its timer fires (docs/actors.md), with
// no request, subscriber or job to hand it a notifier.
afterEach(() => clockProbeClock.release());

describe("mail from an actor's timer", () => {
  it("reaches the mailbox through objectNotifier, with the object's env and clock", async () => {
    const t = await newTenant("actormail");
    clockProbeClock.set("2030-01-01T08:00:00Z");
    const stub = env.CLOCK_PROBE.getByName(`mail-${t.id}`);
    await stub.add({ text: "stand-up", at: "2030-01-01T09:00:00Z", mail: { tenant_id: t.id, to: "ada@example.com" } });
    clockProbeClock.set("2030-01-01T09:00:00Z");
    await runDurableObjectAlarm(stub);
    expect(await stub.fired({})).toEqual(["stand-up"]);
    const mail = await mailTo(t.slug, "ada@example.com", "Reminder");
    expect(mail.subject).toBe("Reminder: stand-up");
    expect(mail.body).toContain("stand-up");
  });

  it("refuses to send under an invalid config, naming the variable and not the value", async () => {
    const broken = { ...env, ENCRYPTION_KEYS: "not-json-secret" };
    let error: unknown;
    try {
      await objectNotifier(broken, manualClock("2030-01-01T00:00:00Z"), KERNEL_NEEDS).send({
        tenantId: "t-x",
        to: "ada@example.com",
        kind: "test.mail",
        subject: "s",
        text: "t",
        html: "<p>t</p>",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ variable: "ENCRYPTION_KEYS" });
    expect(String((error as Error).message)).not.toContain("not-json-secret");
  });
});
