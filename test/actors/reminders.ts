import { z } from "zod";
import { Actor } from "../../src/kernel/actors";
import { type Clock, settableClock } from "../../src/kernel/clock";
import { defineRpc, type RpcArgs, type RpcServer, rpcArgs } from "../../src/kernel/durable/rpc";

/**
 * A module's actor as a product team writes one (docs/actors.md's example): a factory over the
 * platform's clock. test/worker.ts builds it over {@link remindersClock} and vitest.config.ts
 * binds it as REMINDERS; a module's own actor would be bound in wrangler.toml, and its line in
 * test/worker.ts would replace the class src/index.ts exports under the same name.
 */
export const RemindersRpc = defineRpc({
  add: { args: z.object({ text: z.string().max(500), at: z.iso.datetime() }), reply: z.object({}) },
  fired: { args: z.object({}), reply: z.array(z.string()) },
});
type Rpc = typeof RemindersRpc;

const Timer = z.object({ kind: z.literal("remind"), text: z.string() });

/** The clock the test Worker's Reminders run on: real time until a test sets it. */
export const remindersClock = settableClock();

export function remindersObject(platform: { clock: Clock }) {
  return class Reminders extends Actor<z.infer<typeof Timer>> implements RpcServer<Rpc> {
    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env, {
        name: "Reminders",
        schema: [["create table fired (id integer primary key autoincrement, text text not null)"]],
        timerMessage: Timer,
        clock: platform.clock,
      });
    }

    add(input: RpcArgs<Rpc, "add">) {
      return this.receive("add", () => {
        const { text, at } = rpcArgs(RemindersRpc, "add", input);
        this.schedule({ kind: "remind", text }, Date.parse(at));
        return {};
      });
    }

    fired(input: RpcArgs<Rpc, "fired">) {
      rpcArgs(RemindersRpc, "fired", input);
      return this.receive("fired", () =>
        this.ctx.storage.sql
          .exec<{ text: string }>("select text from fired order by id")
          .toArray()
          .map((r) => r.text),
      );
    }

    protected override onTimer(message: z.infer<typeof Timer>) {
      this.transact(() => {
        this.ctx.storage.sql.exec("insert into fired (text) values (?)", message.text);
      });
    }
  };
}
