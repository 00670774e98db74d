// npm start's supervision of wrangler dev (scripts/lib/dev-supervisor.mjs): a Worker that
// fails to load after it was up is started again at the next source change, rather than
// ending npm start; before it was up, and on Ctrl-C, an exit ends everything as before.
import { EventEmitter } from "node:events";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { superviseDev, watchDevVars, watchMigrations, watchSources } from "../../scripts/lib/dev-supervisor.mjs";

class FakeChild extends EventEmitter {
  killed: string[] = [];
  kill(signal = "SIGTERM") {
    this.killed.push(signal);
    return true;
  }
  die(code: number | null, signal: string | null = null) {
    this.emit("exit", code, signal);
  }
}

function harness() {
  const children: FakeChild[] = [];
  const exits: number[] = [];
  const logs: string[] = [];
  let change: (() => void) | null = null;
  let unwatched = 0;
  const dev = superviseDev({
    start: () => {
      const child = new FakeChild();
      children.push(child);
      return child;
    },
    watch: (onChange) => {
      change = onChange;
      return () => {
        unwatched++;
        change = null;
      };
    },
    log: (line) => logs.push(line),
    exit: (code) => exits.push(code),
  });
  return {
    dev,
    children,
    exits,
    logs,
    change: () => change?.(),
    watching: () => change !== null,
    unwatched: () => unwatched,
  };
}

describe("npm start's supervision of wrangler dev", () => {
  it("before the Worker was up, an exit ends npm start with its code", () => {
    const h = harness();
    h.children[0]?.die(1);
    expect(h.exits).toEqual([1]);
    expect(h.watching()).toBe(false);
  });

  it("after it was up, a failed wrangler waits for a change and starts again, as often as it fails", () => {
    const h = harness();
    h.dev.up();
    h.children[0]?.die(1);
    expect(h.exits).toEqual([]);
    expect(h.dev.exited).toBe(true);
    expect(h.logs.at(-1)).toContain("starts it again at the next change");
    expect(h.children).toHaveLength(1);
    h.change();
    expect(h.children).toHaveLength(2);
    expect(h.dev.exited).toBe(false);
    expect(h.unwatched()).toBe(1);
    h.children[1]?.die(1);
    h.change();
    expect(h.children).toHaveLength(3);
    expect(h.exits).toEqual([]);
  });

  it("Ctrl-C stops the running wrangler and ends with its exit; while waiting, it ends at once", () => {
    const running = harness();
    running.dev.up();
    running.dev.stop("SIGINT");
    expect(running.children[0]?.killed).toEqual(["SIGINT"]);
    running.children[0]?.die(null, "SIGINT");
    expect(running.exits).toEqual([0]);

    const waiting = harness();
    waiting.dev.up();
    waiting.children[0]?.die(1);
    waiting.dev.stop("SIGINT");
    expect(waiting.exits).toEqual([0]);
    expect(waiting.watching()).toBe(false);
    waiting.change();
    expect(waiting.children).toHaveLength(1);
  });

  it("a restart (.dev.vars edited) stops the running wrangler and starts a new one once it has exited", () => {
    const h = harness();
    h.dev.up();
    h.dev.restart();
    expect(h.children[0]?.killed).toEqual(["SIGINT"]);
    h.dev.restart(); // a second save while the first is stopping starts nothing more
    expect(h.children[0]?.killed).toEqual(["SIGINT"]);
    expect(h.children).toHaveLength(1);
    h.children[0]?.die(null, "SIGINT");
    expect(h.exits).toEqual([]);
    expect(h.children).toHaveLength(2);
    // The new one is supervised as the first was: a failure waits for a change.
    h.children[1]?.die(1);
    expect(h.exits).toEqual([]);
    expect(h.watching()).toBe(true);
    // While waiting after a failure, a restart starts one at once.
    h.dev.restart();
    expect(h.children).toHaveLength(3);
    expect(h.watching()).toBe(false);
    // Ctrl-C during a restart still ends npm start.
    h.dev.restart();
    h.dev.stop("SIGINT");
    h.children[2]?.die(null, "SIGINT");
    expect(h.exits).toEqual([0]);
    expect(h.children).toHaveLength(3);
  });

  it("a clean exit of wrangler (its own quit) ends npm start, not a restart", () => {
    const h = harness();
    h.dev.up();
    h.children[0]?.die(0);
    expect(h.exits).toEqual([0]);
    expect(h.watching()).toBe(false);
  });
});

describe("watchSources", () => {
  const root = mkdtempSync(join(tmpdir(), "plinth-watch-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("reports a save under src/ once, after the burst of events settles, and stops when told", async () => {
    mkdirSync(join(root, "src", "modules", "x"), { recursive: true });
    writeFileSync(join(root, "wrangler.toml"), "");
    let calls = 0;
    const stop = watchSources(root, () => calls++, 100);
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 5; i++) writeFileSync(join(root, "src", "modules", "x", "index.ts"), `// ${i}\n`);
    await new Promise((r) => setTimeout(r, 600));
    expect(calls).toBe(1);
    stop();
    writeFileSync(join(root, "src", "modules", "x", "index.ts"), "// after\n");
    await new Promise((r) => setTimeout(r, 400));
    expect(calls).toBe(1);
  });

  it("reports an edit of .dev.vars (written in place or replaced, as editors do) and nothing else", async () => {
    const dir = mkdtempSync(join(tmpdir(), "plinth-devvars-"));
    try {
      writeFileSync(join(dir, ".dev.vars"), "A=1\n");
      let calls = 0;
      const stop = watchDevVars(dir, () => calls++, 100);
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(join(dir, "other.txt"), "x");
      await new Promise((r) => setTimeout(r, 300));
      expect(calls).toBe(0);
      writeFileSync(join(dir, ".dev.vars"), "A=2\n");
      await new Promise((r) => setTimeout(r, 400));
      expect(calls).toBe(1);
      writeFileSync(join(dir, ".dev.vars.tmp"), "A=3\n");
      renameSync(join(dir, ".dev.vars.tmp"), join(dir, ".dev.vars"));
      await new Promise((r) => setTimeout(r, 400));
      expect(calls).toBe(2);
      stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports each migration file that appears in migrations/, once, and not an edit or drizzle-kit's journal", async () => {
    const dir = mkdtempSync(join(tmpdir(), "plinth-migrations-"));
    try {
      writeFileSync(join(dir, "0001_init.sql"), "create table a (id text);\n");
      const seen: string[][] = [];
      const stop = watchMigrations(dir, (names) => seen.push(names), 100);
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(join(dir, "0001_init.sql"), "create table a (id text, b text);\n");
      mkdirSync(join(dir, "meta"), { recursive: true });
      writeFileSync(join(dir, "meta", "_journal.json"), "{}");
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toEqual([]);
      writeFileSync(join(dir, "0002_orders_amount.sql"), "alter table a add b text;\n");
      writeFileSync(join(dir, "meta", "_journal.json"), "{ }");
      await new Promise((r) => setTimeout(r, 400));
      expect(seen).toEqual([["0002_orders_amount.sql"]]);
      stop();
      writeFileSync(join(dir, "0003_after_stop.sql"), "select 1;\n");
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toEqual([["0002_orders_amount.sql"]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
