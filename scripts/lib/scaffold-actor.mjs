// `plinth new module <name> --actor`: the module's per-tenant actor (kernel/actors), wired as
// docs/actors.md's checklist wires one by hand: its contract and client, its class, its export
// from src/index.ts, its bindings in wrangler.toml (the top level and every [env.*]) with the
// next migration tag, its erasure, and a test that passes as written.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The actor's names, from the module's: `widgets` → class `WidgetsActor`, bound as
 * `WIDGETS_ACTOR`. The suffix keeps them apart from the module's aggregate and from the
 * platform's own classes.
 * @param {string} name
 */
export function actorNamesOf(name) {
  const Class = `${name[0].toUpperCase()}${name.slice(1)}Actor`;
  return {
    name,
    Class,
    binding: `${name.toUpperCase()}_ACTOR`,
    /** Its schema, exported under a name of its own so `npm run generate` records each version. */
    schema: `${name.toUpperCase()}_ACTOR_SCHEMA`,
    /** Its factory over the platform, its contract, its client. */
    factory: `${name}ActorObject`,
    Rpc: `${Class}Rpc`,
    client: `${name}Actor`,
    /** The files it writes, relative to the root. */
    contractFile: join("src", "modules", name, "contract.ts"),
    classFile: join("durable-objects", `${name}-actor.ts`),
    testFile: join("test", "modules", `${name}-actor.test.ts`),
  };
}

/** @typedef {ReturnType<typeof actorNamesOf>} ActorNames */

/**
 * Why the actor cannot be wired, or none: its class or binding is a name wrangler.toml, the
 * test pool's own objects or src/index.ts already use, or wrangler.toml's migration tags are
 * not the `v<n>` the next one is counted from.
 * @param {string} root @param {ActorNames} a
 */
export function actorProblems(root, a) {
  const problems = [];
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  for (const file of ["wrangler.toml", "vitest.config.ts", "vitest.bindings.ts", join("src", "index.ts")]) {
    let text;
    try {
      text = readFileSync(join(root, file), "utf8");
    } catch {
      continue;
    }
    for (const used of [a.Class, a.binding]) {
      if (new RegExp(`\\b${used}\\b`).test(text))
        problems.push(
          `${file} already names ${used}, which the actor of module "${a.name}" would be: pick another name`,
        );
    }
  }
  if (nextTag(toml) === null)
    problems.push(
      'wrangler.toml has a [[migrations]] tag that is not v<number>: add the actor by hand (docs/actors.md, "Adding an actor to a module")',
    );
  return problems;
}

/** The tag after wrangler.toml's last `v<n>` (v1 when there is none), or null when a tag is otherwise. */
function nextTag(toml) {
  const tags = [...toml.matchAll(/^tag\s*=\s*"([^"]*)"/gm)].map((m) => m[1]);
  const numbers = tags.map((tag) => /^v(\d+)$/.exec(tag)?.[1]);
  if (numbers.some((n) => n === undefined)) return null;
  return `v${Math.max(0, ...numbers.map(Number)) + 1}`;
}

/** Where the block that starts at `from` ends: its first blank line, or the file's end. */
function blockEnd(text, from) {
  const blank = text.indexOf("\n\n", from);
  return blank === -1 ? text.length : blank + 1;
}

/**
 * Binds the actor in wrangler.toml: after the top level's last [[migrations]] entry a binding and
 * a migration with the next tag, and after each environment's last Durable Object binding the
 * same binding (an environment inherits none). Returns the file written.
 * @param {string} root @param {ActorNames} a
 */
export function bindActor(root, a) {
  const path = join(root, "wrangler.toml");
  let toml = readFileSync(path, "utf8");
  const tag = nextTag(toml);
  const binding = (table) => `\n[[${table}]]\nname = "${a.binding}"\nclass_name = "${a.Class}"\n`;
  const envs = [...toml.matchAll(/^\[env\.([A-Za-z0-9_-]+)\]\s*$/gm)].map((m) => m[1]);
  // Each environment's, the last first so the offsets found for the others hold.
  for (const env of envs.reverse()) {
    const last = toml.lastIndexOf(`\n[[env.${env}.durable_objects.bindings]]`);
    const at = last === -1 ? sectionEnd(toml, toml.indexOf(`\n[env.${env}]`)) : blockEnd(toml, last + 1);
    toml = `${toml.slice(0, at)}${binding(`env.${env}.durable_objects.bindings`)}${toml.slice(at)}`;
  }
  const lastMigration = toml.lastIndexOf("\n[[migrations]]");
  const firstEnv = toml.search(/\n\[env\./);
  const top = lastMigration === -1 ? (firstEnv === -1 ? toml.length : firstEnv + 1) : blockEnd(toml, lastMigration + 1);
  const block =
    `\n# The ${a.name} module's actor, one per tenant (plinth new module ${a.name} --actor).` +
    binding("durable_objects.bindings") +
    `\n[[migrations]]\ntag = "${tag}"\nnew_sqlite_classes = ["${a.Class}"]\n`;
  toml = `${toml.slice(0, top)}${block}${toml.slice(top)}`;
  writeFileSync(path, toml);
  return "wrangler.toml";
}

/** Where the environment whose header is at `envAt` ends: before the next environment's header, or at the file's end. */
function sectionEnd(toml, envAt) {
  const next = toml.slice(envAt + 1).search(/\n\[env\.[A-Za-z0-9_-]+\]\s*\n/);
  return next === -1 ? toml.length : envAt + 1 + next + 1;
}

/**
 * Exports the actor's class from src/index.ts, built over the platform and traced as the
 * platform's own are, with its instance type under the same name (the type `Env` names the
 * binding's stubs by). Returns the file written.
 * @param {string} root @param {ActorNames} a
 */
export function exportActor(root, a) {
  const path = join(root, "src", "index.ts");
  const source = readFileSync(path, "utf8");
  const imports = [...source.matchAll(/^import [\s\S]*?;$/gm)];
  const last = imports.at(-1);
  const at = (last?.index ?? 0) + (last?.[0].length ?? 0);
  const withImports =
    `${source.slice(0, at)}\nimport { ${a.factory} } from "../durable-objects/${a.name}-actor";` +
    `\nimport { ${a.Rpc} } from "./modules/${a.name}/contract";${source.slice(at)}`;
  const exported =
    `${withImports.trimEnd()}\n/** The ${a.name} module's actor: one per tenant. */\n` +
    `export const ${a.Class} = traced.object(${a.factory}(platform), "${a.Class}", ${a.Rpc}, PingRpc);\n` +
    `export type ${a.Class} = InstanceType<typeof ${a.Class}>;\n`;
  writeFileSync(path, exported);
  return join("src", "index.ts");
}

/**
 * The actor's contract and its one client: `src/modules/<name>/contract.ts`, the one name the
 * contract rules (test/node/contract-rules.test.ts) let reach a Durable Object by name.
 * @param {ActorNames} a
 */
export const contract = (a) => `import { z } from "zod";
import { EraseRpc } from "../../kernel/durable/erase";
import { defineRpc, rpcClient } from "../../kernel/durable/rpc";

const TenantId = z.string().min(1).max(64);

/**
 * The contract of the ${a.Class} (kernel/actors), one per tenant, named by the tenant id. Its
 * one example keeps reminders and marks each fired at its time, unless the tenant is suspended
 * or deleted by then: make the messages yours (docs/actors.md).
 */
export const ${a.Rpc} = defineRpc({
  /** Offboarding (the module's \`erasure\`): forgets everything and keeps a tombstone. */
  ...EraseRpc,
  /** Keeps a reminder and sets its timer. */
  add: {
    args: z.object({ tenant_id: TenantId, text: z.string().min(1).max(500), at: z.iso.datetime() }),
    reply: z.object({ ok: z.literal(true) }),
  },
  /** The reminders fired so far, oldest first. */
  fired: { args: z.object({ tenant_id: TenantId }), reply: z.array(z.string()) },
});

/** The tenant's ${a.Class}: every call goes through this client (it parses the replies). */
export const ${a.client} = (env: Env, tenantId: string) =>
  rpcClient(${a.Rpc}, env.${a.binding}.getByName(tenantId), "${a.Class}");
`;

/** The actor's class, a factory over the platform: `durable-objects/<name>-actor.ts`. @param {ActorNames} a */
export const actorClass = (a) => `import { z } from "zod";
import { Actor } from "../src/kernel/actors";
import { findTenant } from "../src/kernel/auth/tenant-registry";
import { type RpcArgs, type RpcReply, type RpcServer, rpcArgs } from "../src/kernel/durable/rpc";
import type { PlatformParts } from "../src/kernel/modules/types";
import { ${a.Rpc} } from "../src/modules/${a.name}/contract";
import { manifest } from "../src/modules/${a.name}/manifest";

type Rpc = typeof ${a.Rpc};

/**
 * Its tables, one version per entry: append, never edit one that has shipped. Exported as
 * \`<NAME>_SCHEMA\` so \`npm run generate\` records each version and its check names one edited
 * (docs/modules.md, "Shipped storage is append-only").
 */
export const ${a.schema}: readonly string[][] = [
  ["create table reminders (id integer primary key, text text not null, fired integer not null default 0)"],
];

/** A timer's message, parsed when it fires (a stored one is not trusted). */
const Timer = z.object({ kind: z.literal("remind"), id: z.number().int() });
type Timer = z.infer<typeof Timer>;

/**
 * The ${a.name} module's actor, one per tenant: src/index.ts builds it over the platform (its
 * clock, its modules) and exports it as ${a.Class}, bound as ${a.binding} in wrangler.toml.
 */
export function ${a.factory}(platform: Pick<PlatformParts, "clock" | "modules">) {
  return class ${a.Class} extends Actor<Timer> implements RpcServer<Rpc> {
    constructor(ctx: DurableObjectState, env: Env) {
      // Its module, by the manifest's name: emit takes the types of its events.publishes union and
      // refuses any other. Its modules: emit refuses a stream named like an aggregate's
      // (docs/actors.md, "Outbox" and "Stream names").
      super(ctx, env, {
        name: "${a.Class}",
        schema: ${a.schema},
        timerMessage: Timer,
        module: manifest.name,
        modules: platform.modules,
        clock: platform.clock,
      });
    }

    add(input: RpcArgs<Rpc, "add">): Promise<RpcReply<Rpc, "add">> {
      return this.receive("add", () => {
        const a = rpcArgs(${a.Rpc}, "add", input);
        // The first call binds the actor to its tenant; a call naming another is refused.
        this.bindTenant(a.tenant_id);
        const row = this.ctx.storage.sql
          .exec<{ id: number }>("insert into reminders (text) values (?) returning id", a.text)
          .one();
        this.schedule({ kind: "remind", id: row.id }, Date.parse(a.at));
        return { ok: true as const };
      });
    }

    fired(input: RpcArgs<Rpc, "fired">): Promise<RpcReply<Rpc, "fired">> {
      return this.receive("fired", () => {
        const a = rpcArgs(${a.Rpc}, "fired", input);
        this.bindTenant(a.tenant_id);
        return this.ctx.storage.sql
          .exec<{ text: string }>("select text from reminders where fired = 1 order by id")
          .toArray()
          .map((r) => r.text);
      });
    }

    // Where its failures escalate once it knows its tenant: the log lines of a failing or paused
    // actor name the tenant, and a pause is an actor.escalated event in the tenant's audit log.
    protected override escalationAddress() {
      const tenantId = this.boundTenant();
      return tenantId === null ? null : { tenantId, stream: \`\${tenantId}/${a.name}\` };
    }

    // At least once, when due. A suspended or deleted tenant's reminder is dropped (returning, not
    // throwing: a throw would retry it); the tenant's record comes from the kernel's registry.
    protected override async onTimer(message: Timer): Promise<void> {
      const tenantId = this.boundTenant();
      const tenant = tenantId ? await findTenant({ env: this.env, modules: platform.modules }, tenantId) : null;
      if (tenant?.status !== "active") return;
      this.transact(() => {
        this.ctx.storage.sql.exec("update reminders set fired = 1 where id = ?", message.id);
      });
    }
  };
}
`;

/** The actor's tests, in workerd: `test/modules/<name>-actor.test.ts`. @param {ActorNames} a */
export const actorTest = (
  a,
) => `// The ${a.Class}, as generated: a reminder fires at its time, a suspended tenant's is dropped,
// and the actor is erased with its tenant.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { ${a.client} } from "../../src/modules/${a.name}/contract";
import { ERASURE_GRACE_MS } from "../../src/modules/tenants/erasure-job";
import { call, newTenant, rootKey } from "../identity/helpers";
import { eraseUntil } from "../tenants/helpers";

const platform = (path: string, method: "GET" | "POST" | "DELETE" = "GET") =>
  call(\`/api/v1/platform/tenants/\${path}\`, { method, token: rootKey() });

// Each erasure run needs a later fire time than the last, past the deleted tenant's grace.
let minutes = 0;
const pastGrace = () => manualClock(new Date(Date.now() + ERASURE_GRACE_MS + ++minutes * 60_000));

describe("${a.Class}", () => {
  it("fires an active tenant's reminder at its time", async () => {
    const t = await newTenant("${a.name}-act");
    const actor = ${a.client}(env, t.id);
    await actor.add({ tenant_id: t.id, text: "stand-up", at: new Date(Date.now() + 100).toISOString() });
    // Due at real time: run the alarm until the timer's effect shows.
    await vi.waitFor(async () => {
      await runDurableObjectAlarm(env.${a.binding}.getByName(t.id));
      expect(await actor.fired({ tenant_id: t.id })).toEqual(["stand-up"]);
    });
  });

  it("drops a suspended tenant's reminder: not fired, not retried", async () => {
    const t = await newTenant("${a.name}-sus");
    expect((await platform(\`\${t.id}/suspend\`, "POST")).status).toBe(200);
    const actor = ${a.client}(env, t.id);
    await actor.add({ tenant_id: t.id, text: "quiet", at: new Date().toISOString() });
    const stub = env.${a.binding}.getByName(t.id);
    await vi.waitFor(async () => {
      await runDurableObjectAlarm(stub);
      // No alarm left to run: the timer is gone.
      expect(await runDurableObjectAlarm(stub)).toBe(false);
    });
    expect(await actor.fired({ tenant_id: t.id })).toEqual([]);
  });

  it("is erased with its tenant and refuses it after", async () => {
    const t = await newTenant("${a.name}-gone");
    const actor = ${a.client}(env, t.id);
    await actor.add({ tenant_id: t.id, text: "later", at: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await platform(t.id, "DELETE")).status).toBe(202);
    await eraseUntil(async () => (await platform(t.id)).status === 404, pastGrace);
    // Settled here: a rejected RPC left to expect(…).rejects is reported as unhandled.
    let refused: unknown;
    try {
      await actor.fired({ tenant_id: t.id });
    } catch (error) {
      refused = error;
    }
    expect(String(refused)).toContain("its tenant was erased");
  });
});
`;
