import { z } from "zod";
import { Actor } from "../../src/kernel/actors";
import { settableClock } from "../../src/kernel/clock";
import { defineRpc, type RpcArgs, type RpcServer, rpcArgs } from "../../src/kernel/durable/rpc";
import type { PlatformParts } from "../../src/kernel/modules/types";
import { objectNotifier } from "../../src/kernel/notify/notifier";
import { renderMail } from "../../src/kernel/notify/template";

/**
 * A module's actor as a product team writes one (docs/actors.md's example): a factory over the
 * platform's clock. test/worker.ts builds it over {@link clockProbeClock} and vitest.config.ts
 * binds it as CLOCK_PROBE; a module's own actor would be bound in wrangler.toml, and its line in
 * test/worker.ts would replace the class src/index.ts exports under the same name. Not named
 * `Reminders` as in the docs, so a team that names its actor so meets no fixture of that name
 * (vitest.bindings.ts refuses a test-only object a wrangler.toml entry also takes).
 */
/** Whom to mail when the reminder fires (test/actors/actor-mail.test.ts). */
const Mail = z.object({ tenant_id: z.string(), to: z.email() });

export const ClockProbeRpc = defineRpc({
  add: {
    args: z.object({ text: z.string().max(500), at: z.iso.datetime(), mail: Mail.optional() }),
    reply: z.object({}),
  },
  fired: { args: z.object({}), reply: z.array(z.string()) },
});
type Rpc = typeof ClockProbeRpc;

const Timer = z.object({ kind: z.literal("remind"), text: z.string(), mail: Mail.optional() });

/** The clock the test Worker's ClockProbe runs on: real time until a test sets it. */
export const clockProbeClock = settableClock();

export function clockProbeObject(platform: Pick<PlatformParts, "clock" | "needs" | "modules">) {
  return class ClockProbe extends Actor<z.infer<typeof Timer>> implements RpcServer<Rpc> {
    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env, {
        name: "ClockProbe",
        schema: [["create table fired (id integer primary key autoincrement, text text not null)"]],
        timerMessage: Timer,
        modules: platform.modules,
        clock: platform.clock,
      });
    }

    add(input: RpcArgs<Rpc, "add">) {
      return this.receive("add", () => {
        const { text, at, mail } = rpcArgs(ClockProbeRpc, "add", input);
        this.schedule({ kind: "remind", text, ...(mail ? { mail } : {}) }, Date.parse(at));
        return {};
      });
    }

    fired(input: RpcArgs<Rpc, "fired">) {
      rpcArgs(ClockProbeRpc, "fired", input);
      return this.receive("fired", () =>
        this.ctx.storage.sql
          .exec<{ text: string }>("select text from fired order by id")
          .toArray()
          .map((r) => r.text),
      );
    }

    protected override async onTimer(message: z.infer<typeof Timer>) {
      if (message.mail) {
        await objectNotifier(this.env, this.clock, platform.needs).send({
          id: `clock-probe.${message.text}`,
          tenantId: message.mail.tenant_id,
          to: message.mail.to,
          kind: "test.reminder",
          ...renderMail({ tenantName: "Probe", subject: `Reminder: ${message.text}`, paragraphs: [[message.text]] }),
        });
      }
      this.transact(() => {
        this.ctx.storage.sql.exec("insert into fired (text) values (?)", message.text);
      });
    }
  };
}
