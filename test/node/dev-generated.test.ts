// npm start and the generated sources (scripts/lib/dev-generated.mjs): a Durable Object
// binding added to wrangler.toml reached src/generated/objects.ts only through
// `npm run generate`, so /readyz named the new object's check after its binding
// (`do:REMINDER_CLOCK`) until the developer ran it. npm start now regenerates the sources
// as it begins and when wrangler.toml changes; this runs that on a copy of the checkout.
import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSources, refreshGenerated } from "../../scripts/lib/dev-generated.mjs";
import { watchManifests, watchWranglerToml } from "../../scripts/lib/dev-watch.mjs";

const root = join(import.meta.dirname, "..", "..");
const copy = mkdtempSync(join(tmpdir(), "plinth-generated-"));
beforeAll(() => {
  // durable-objects/ and wasm/ too: the generator loads the objects' schemas to record them as shipped.
  for (const dir of ["src", "scripts", "migrations", "durable-objects", "wasm"])
    cpSync(join(root, dir), join(copy, dir), { recursive: true });
  cpSync(join(root, "wrangler.toml"), join(copy, "wrangler.toml"));
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
}, 60_000);
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const BINDING = '\n[[durable_objects.bindings]]\nname = "REMINDER_CLOCK"\nclass_name = "ReminderClock"\n';
const objects = () => readFileSync(join(copy, "src", "generated", "objects.ts"), "utf8");

describe("npm start's generated sources", () => {
  it("rewrites nothing when they are up to date, and says nothing", async () => {
    const said: string[] = [];
    const written = await refreshGenerated({ root: copy, why: "starting", say: (l) => said.push(l) });
    expect(written).toEqual([]);
    expect(said).toEqual([]);
  }, 60_000);

  it("rewrites objects.ts when wrangler.toml binds a new Durable Object, as the watcher reports the edit", async () => {
    const said: string[] = [];
    const edited = new Promise<void>((resolve) => {
      const stop = watchWranglerToml(
        copy,
        () => {
          stop();
          resolve();
        },
        50,
      );
    });
    appendFileSync(join(copy, "wrangler.toml"), BINDING);
    await edited;
    expect(objects()).not.toContain("REMINDER_CLOCK");
    const written = await refreshGenerated({ root: copy, why: "wrangler.toml changed", say: (l) => said.push(l) });
    expect(written).toEqual(["src/generated/objects.ts"]);
    expect(objects()).toContain('REMINDER_CLOCK: "ReminderClock"');
    expect(said).toEqual([
      "plinth: wrangler.toml changed: rewrote src/generated/objects.ts (generate --sources-only); commit with your change",
    ]);
  }, 60_000);

  it("rewrites permissions.ts when a module's manifest declares a permission, as the watcher reports the save", async () => {
    // A permission added to a manifest while npm start runs: a route using its PERMISSIONS
    // constant stopped the Worker ("access is undefined … run npm run generate") until the
    // developer ran it. The watcher reports manifest saves only: a route's save is wrangler's.
    const seen: string[] = [];
    const stop = watchManifests(copy, () => seen.push("manifest"), 50);
    try {
      const routes = join(copy, "src", "modules", "blog", "routes.ts");
      appendFileSync(routes, "\n");
      await new Promise((r) => setTimeout(r, 400));
      expect(seen).toEqual([]);
      const manifest = join(copy, "src", "modules", "blog", "manifest.ts");
      writeFileSync(
        manifest,
        readFileSync(manifest, "utf8").replace('"blog.post.read",', '"blog.post.read", "blog.post.archive",'),
      );
      for (let i = 0; i < 40 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual(["manifest"]);
      // Saved again by replacing the file (as sed -i and some editors do), twice: each is seen.
      for (const round of [1, 2]) {
        writeFileSync(`${manifest}.tmp`, `${readFileSync(manifest, "utf8")}\n`);
        renameSync(`${manifest}.tmp`, manifest);
        for (let i = 0; i < 40 && seen.length === round; i++) await new Promise((r) => setTimeout(r, 50));
        expect(seen.length).toBe(round + 1);
      }
    } finally {
      stop();
    }
    const said: string[] = [];
    const written = await refreshGenerated({
      root: copy,
      why: "a module's manifest changed",
      say: (l) => said.push(l),
    });
    expect(written).toEqual(["src/generated/permissions.ts"]);
    expect(readFileSync(join(copy, "src", "generated", "permissions.ts"), "utf8")).toContain('"blog.post.archive"');
  }, 60_000);

  it("says why it could not, and that the Worker runs with the files as they were", async () => {
    const said: string[] = [];
    const written = await refreshGenerated({
      root: copy,
      why: "starting",
      say: (l) => said.push(l),
      generate: async () => ({ code: 1, output: "generate: modules x have no manifest.ts\n" }),
    });
    expect(written).toBeNull();
    expect(said[0]).toBe("generate: modules x have no manifest.ts");
    expect(said[1]).toContain("the Worker runs with it as it was");
    expect(said[1]).toContain("npm run generate");
  });

  it("says where a wrangler.toml saved with a syntax error is wrong, in a line", async () => {
    const file = join(copy, "wrangler.toml");
    const good = readFileSync(file, "utf8");
    writeFileSync(file, `${good}this is = = broken [\n`);
    try {
      const run = await generateSources(copy);
      expect(run.code).not.toBe(0);
      // npm start prints this as it is: a stack trace of wrangler's parser carried the whole
      // wrangler.toml (some 400 lines) with it.
      const line = good.split("\n").length;
      expect(run.output.trimEnd()).toBe(
        `generate: wrangler.toml:${line}:0: Invalid TOML document: only letter, numbers, dashes and underscores are allowed in keys`,
      );
    } finally {
      writeFileSync(file, good);
    }
  }, 60_000);

  it("reports a failure of the generator itself with its exit code", async () => {
    appendFileSync(join(copy, "wrangler.toml"), "\n[[durable_objects.bindings]\n");
    const run = await generateSources(copy);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain("wrangler.toml");
    expect(run.output).toContain('binding should have a string "name" field');
    expect(run.output).not.toMatch(/^\s+at /m);
  }, 60_000);
});
