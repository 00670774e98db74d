import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

/**
 * The least a command on one entity can cost on this runtime: Hono, a JSON body, an RPC to
 * the entity's Durable Object, one SQLite transaction appending the change and storing the
 * new state, and a JSON answer with an ETag. No authentication, validation, outbox, queue,
 * read model or metrics: the bench compares plinth's PATCH with it, so that ratio shows
 * plinth's own cost per command apart from the runtime's.
 */
export class Thing extends DurableObject {
  private version = -1;

  handle(content: string): { version: number; content: string } {
    const sql = this.ctx.storage.sql;
    if (this.version < 0) {
      sql.exec("create table if not exists changes (version integer primary key, body text not null)");
      sql.exec("create table if not exists state (id integer primary key check (id = 1), version integer, body text)");
      this.version = sql.exec<{ v: number | null }>("select max(version) as v from changes").one().v ?? 0;
    }
    const version = this.version + 1;
    const body = JSON.stringify({ content });
    this.ctx.storage.transactionSync(() => {
      sql.exec("insert into changes (version, body) values (?, ?)", version, body);
      sql.exec("insert or replace into state (id, version, body) values (1, ?, ?)", version, body);
    });
    this.version = version;
    return { version, content };
  }
}

interface Env {
  THING: DurableObjectNamespace<Thing>;
}

const app = new Hono<{ Bindings: Env }>().patch("/things/:id", async (c) => {
  const { content } = await c.req.json<{ content: string }>();
  const result = await c.env.THING.getByName(c.req.param("id")).handle(String(content));
  c.header("ETag", `"${result.version}"`);
  return c.json(result);
});

export default app;
