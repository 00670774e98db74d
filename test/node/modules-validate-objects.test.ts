// `plinth modules validate` and the Durable Objects the modules bind: a module's object whose
// class has no `ping` was found only by /readyz at run time ("does not answer ping"), and one
// not bound in wrangler.toml, or not exported by src/index.ts, only when wrangler refused to
// start. validate reads the bindings from the manifests, each binding's class from
// wrangler.toml and the classes from src/index.ts, and says so before anything runs.
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { objectProblems } from "../../scripts/lib/module-objects.mjs";

const root = join(import.meta.dirname, "..", "..");
const copy = mkdtempSync(join(tmpdir(), "plinth-validate-"));
beforeAll(() => {
  for (const dir of ["src", "scripts", "migrations", "durable-objects", "wasm"]) {
    cpSync(join(root, dir), join(copy, dir), { recursive: true });
  }
  for (const file of ["wrangler.toml", "package.json"]) cpSync(join(root, file), join(copy, file));
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
}, 60_000);
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const validate = () =>
  spawnSync(process.execPath, ["scripts/plinth.mjs", "modules", "validate"], { cwd: copy, encoding: "utf8" });
const edit = (file: string, from: string, to: string) => {
  const text = readFileSync(join(copy, file), "utf8");
  if (!text.includes(from)) throw new Error(`${file} lacks ${from}`);
  writeFileSync(join(copy, file), text.replace(from, to));
};

describe("plinth modules validate and the modules' Durable Objects", () => {
  it("says a module's object without ping fails /readyz, and is content once the class answers it", () => {
    expect(validate().stdout).toBe("ok: 8 modules, no problems\n");
    // The audit module binds a second object, PROBE, of a class of its own that has no ping.
    edit(
      "src/modules/audit/index.ts",
      'bindings: { AUDIT_LOG: "durable_object" }',
      'bindings: { AUDIT_LOG: "durable_object", PROBE: "durable_object" }',
    );
    appendFileSync(
      join(copy, "wrangler.toml"),
      '\n[[durable_objects.bindings]]\nname = "PROBE"\nclass_name = "Probe"\n',
    );
    appendFileSync(
      join(copy, "src", "index.ts"),
      '\nimport { DurableObject } from "cloudflare:workers";\nexport class Probe extends DurableObject {}\n',
    );
    const without = validate();
    expect(without.status).toBe(1);
    expect(without.stdout).toContain(
      "audit: Probe (PROBE, declared by the audit module) does not answer ping, so its /readyz check fails: add PingRpc",
    );
    expect(without.stdout).toContain("1 problem");

    edit(
      "src/index.ts",
      "export class Probe extends DurableObject {}",
      "export class Probe extends DurableObject {\n  ping() {\n    return { ok: true };\n  }\n}",
    );
    const answering = validate();
    expect(answering.stderr).toBe("");
    expect(answering.stdout).toBe("ok: 8 modules, no problems\n");
    expect(answering.status).toBe(0);
  }, 120_000);

  it("refuses a module route at a kernel route's path, as the Worker's start does", () => {
    // The kernel's routes exist only once the platform is built (src/index.ts does): identity's
    // JWKS moved to /healthz would never be reached, and validate said ok.
    edit("src/modules/identity/routes/jwks.ts", 'path: "/.well-known/jwks.json",', 'path: "/healthz",');
    try {
      const run = validate();
      expect(run.stdout).toBe(
        'identity: route "GET /healthz" is never reached: "GET /healthz" of the kernel, mounted before it, answers every request it would (use another path)\n1 problem\n',
      );
      expect(run.status).toBe(1);
    } finally {
      edit("src/modules/identity/routes/jwks.ts", 'path: "/healthz",', 'path: "/.well-known/jwks.json",');
    }
  }, 120_000);

  it("refuses a module binding an object of its own with no erasure, saying what to add", () => {
    // A deleted tenant's objects kept their rows and timers for good, and nothing said so.
    const file = join(copy, "src", "modules", "files", "index.ts");
    const good = readFileSync(file, "utf8");
    edit("src/modules/files/index.ts", "    erasure: filesErasure,\n", "");
    try {
      const run = validate();
      expect(run.status).toBe(1);
      expect(run.stdout).toContain(
        "files: binds the Durable Object FILE_STORE but declares no erasure, so a deleted tenant's objects would keep their rows and timers for good: add erasure: { erase:",
      );
      expect(run.stdout).toContain('tenant_free_objects: { FILE_STORE: "<why>" }');
      expect(run.stdout).toContain("1 problem");
    } finally {
      writeFileSync(file, good);
    }
  }, 60_000);

  it("fails on a wrangler.toml it cannot read, naming that file, not src/index.ts", () => {
    // Read as "src/index.ts does not load in Node" and answered "ok" (exit 0): the bindings
    // went unchecked while wrangler dev and the deploy would refuse the file.
    const file = join(copy, "wrangler.toml");
    const good = readFileSync(file, "utf8");
    writeFileSync(file, `${good}this is = = broken [\n`);
    try {
      const run = validate();
      expect(run.status).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`plinth: wrangler.toml:${good.split("\n").length}:0: Invalid TOML document`);
      expect(run.stderr).not.toContain("src/index.ts");
    } finally {
      writeFileSync(file, good);
    }
  }, 60_000);
});

describe("the problems of the modules' Durable Object bindings", () => {
  class Pinged {
    ping() {
      return { ok: true };
    }
  }
  class Silent {}
  const modules: { name: string; bindings: Record<string, string> }[] = [
    { name: "reminders", bindings: { REMINDER_CLOCK: "durable_object", FILES: "r2" } },
    {
      name: "alarms",
      bindings: { REMINDER_CLOCK: "durable_object", ALARMS: "durable_object", LOST: "durable_object" },
    },
  ];

  it("names the first module declaring a binding, once, and each way it can be wrong", () => {
    const problems = objectProblems(
      modules,
      { REMINDER_CLOCK: "ReminderClock", ALARMS: "Alarms" },
      { ReminderClock: Silent, Other: Pinged },
    );
    expect(problems).toEqual([
      {
        module: "reminders",
        problem: expect.stringContaining(
          "ReminderClock (REMINDER_CLOCK, declared by the reminders module) does not answer ping",
        ),
      },
      {
        module: "alarms",
        problem: expect.stringContaining(
          "ALARMS is bound in wrangler.toml to the class Alarms, which src/index.ts does not export",
        ),
      },
      {
        module: "alarms",
        problem: expect.stringContaining(
          "declares the Durable Object binding LOST, which wrangler.toml does not bind at its top level",
        ),
      },
    ]);
  });

  it("finds nothing wrong with classes that answer ping, and ignores other kinds of binding", () => {
    expect(
      objectProblems(
        modules,
        { REMINDER_CLOCK: "A", ALARMS: "B", LOST: "C" },
        { A: Pinged, B: Pinged, C: class extends Pinged {} },
      ),
    ).toEqual([]);
  });
});
