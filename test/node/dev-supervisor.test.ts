// npm start's supervision of wrangler dev (scripts/lib/dev-supervisor.mjs; its watches in
// dev-watch.mjs, wrangler.toml's settling in dev-settle.mjs): a Worker that fails to load
// after it was up is started again at the next source change, rather than ending npm start;
// before it was up, and on Ctrl-C, an exit ends everything as before.
import { EventEmitter } from "node:events";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { settleFile, wranglerTomlReadable, wranglerTomlSettled } from "../../scripts/lib/dev-settle.mjs";
import { superviseDev } from "../../scripts/lib/dev-supervisor.mjs";
import { watchDevVars, watchMigrations, watchSources, watchWranglerToml } from "../../scripts/lib/dev-watch.mjs";

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

function harness(settle?: (startedAt: number) => Promise<boolean>) {
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
    settle,
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

  it("a wrangler that fails after npm start rewrote src/generated/ under it starts again at once, once", () => {
    // A permission saved in a manifest: the save restarts a failed wrangler, which builds with the
    // old permissions.ts while npm start rewrites it; the rewrite lands before the failure, so no
    // change comes after it, and wrangler stayed down though the cause was gone.
    const h = harness();
    h.dev.up();
    h.dev.rewrote();
    h.children[0]?.die(1);
    expect(h.children).toHaveLength(2);
    expect(h.logs.at(-1)).toBe(
      "plinth: wrangler dev stopped as src/generated/ was rewritten under it; starting it again…",
    );
    // The new one read the files whole: its own failure is the developer's to fix.
    h.children[1]?.die(1);
    expect(h.children).toHaveLength(2);
    expect(h.watching()).toBe(true);
    expect(h.logs.at(-1)).toContain("starts it again at the next change");
    // While waiting after a failure, a rewrite is a change like any other (the watch sees it).
    h.dev.rewrote();
    expect(h.children).toHaveLength(2);
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

  it("starts wrangler again at once when it stopped as wrangler.toml was being written, once the file settles", async () => {
    // `cp other.toml wrangler.toml` truncates, then writes: wrangler dev read the empty file
    // ("Missing entry-point") and exited after the write had landed, so the watch begun at
    // its exit saw no change, and plinth stayed down until the next save.
    let settled: (raced: boolean) => void = () => {};
    const asked: number[] = [];
    const h = harness((startedAt) => {
      asked.push(startedAt);
      return new Promise((resolve) => {
        settled = resolve;
      });
    });
    h.dev.up();
    h.children[0]?.die(1);
    expect(asked).toHaveLength(1);
    expect(h.watching()).toBe(true);
    expect(h.logs).toEqual([]); // no "fix it" for a file that may need no fixing
    settled(true);
    await new Promise((r) => setTimeout(r, 0));
    expect(h.children).toHaveLength(2);
    expect(h.watching()).toBe(false);
    expect(h.logs.at(-1)).toContain("wrangler.toml was being written");
    // Not raced (a real error, the file untouched): it waits for the next change, as before.
    h.children[1]?.die(1);
    settled(false);
    await new Promise((r) => setTimeout(r, 0));
    expect(h.children).toHaveLength(2);
    expect(h.watching()).toBe(true);
    expect(h.logs.at(-1)).toContain("Fix it and save");
    h.change();
    expect(h.children).toHaveLength(3);
    // Ctrl-C while it settles ends npm start; the settled file starts nothing after that.
    h.children[2]?.die(1);
    h.dev.stop("SIGINT");
    settled(true);
    await new Promise((r) => setTimeout(r, 0));
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

/**
 * Polls (every 25 ms, up to 5 s) until `done` holds. A watch reports `quietMs` after the last
 * event, on timers that a loaded two-core machine runs 3-5 times late: a fixed wait of a few
 * debounces saw nothing yet. What must not come is still awaited for a fixed while.
 */
async function eventually(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(done(), `${what}, within 5 s`).toBe(true);
}

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
    await eventually("the save reported", () => calls > 0);
    // The burst's events are all in by now: a second report would be one too many.
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(1);
    stop();
    writeFileSync(join(root, "src", "modules", "x", "index.ts"), "// after\n");
    await new Promise((r) => setTimeout(r, 400));
    expect(calls).toBe(1);
  });

  it("reports each save of a file replaced by rename (sed -i, some editors), under src/ and wrangler.toml", async () => {
    const dir = mkdtempSync(join(tmpdir(), "plinth-watch-rename-"));
    const calls: string[] = [];
    let stop = () => {};
    try {
      mkdirSync(join(dir, "src", "modules", "x"), { recursive: true });
      const file = join(dir, "src", "modules", "x", "routes.ts");
      writeFileSync(file, "// 0\n");
      writeFileSync(join(dir, "wrangler.toml"), "");
      stop = watchSources(dir, () => calls.push("restart"), 50);
      await new Promise((r) => setTimeout(r, 100));
      const seenAfter = async (count: number) => {
        for (let i = 0; i < 40 && calls.length < count; i++) await new Promise((r) => setTimeout(r, 50));
        expect(calls.length).toBe(count);
      };
      // Twice each: Node's recursive watch on Linux hears the first replacement, then nothing.
      for (const round of [1, 2]) {
        writeFileSync(`${file}.tmp`, `// ${round}\n`);
        renameSync(`${file}.tmp`, file);
        await seenAfter(2 * round - 1);
        writeFileSync(join(dir, "wrangler.toml.tmp"), `# ${round}\n`);
        renameSync(join(dir, "wrangler.toml.tmp"), join(dir, "wrangler.toml"));
        await seenAfter(2 * round);
      }
      // A folder made after the watch began (a new module) is watched too, its files replaced alike.
      mkdirSync(join(dir, "src", "modules", "y", "routes"), { recursive: true });
      await seenAfter(5);
      const later = join(dir, "src", "modules", "y", "routes", "a.ts");
      writeFileSync(later, "// a\n");
      await seenAfter(6);
      writeFileSync(`${later}.tmp`, "// b\n");
      renameSync(`${later}.tmp`, later);
      await seenAfter(7);
      // What is beside the sources is not theirs.
      writeFileSync(join(dir, "package.json"), "{}");
      await new Promise((r) => setTimeout(r, 300));
      expect(calls.length).toBe(7);
    } finally {
      stop();
      rmSync(dir, { recursive: true, force: true });
    }
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
      await eventually("the edit reported", () => calls > 0);
      await new Promise((r) => setTimeout(r, 300));
      expect(calls).toBe(1);
      writeFileSync(join(dir, ".dev.vars.tmp"), "A=3\n");
      renameSync(join(dir, ".dev.vars.tmp"), join(dir, ".dev.vars"));
      await eventually("the replacement reported", () => calls > 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(calls).toBe(2);
      stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports each migration file that appears in migrations/, once, and an edit apart (not drizzle-kit's journal)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "plinth-migrations-"));
    try {
      writeFileSync(join(dir, "0001_init.sql"), "create table a (id text);\n");
      const seen: string[][] = [];
      const rewritten: string[][] = [];
      const stop = watchMigrations(
        dir,
        (names) => seen.push(names),
        100,
        (names) => rewritten.push(names),
      );
      await new Promise((r) => setTimeout(r, 100));
      // Deleted and generated again under its name (a scaffold's table reshaped): not new, but changed.
      rmSync(join(dir, "0001_init.sql"));
      writeFileSync(join(dir, "0001_init.sql"), "create table a (id text, b text);\n");
      mkdirSync(join(dir, "meta"), { recursive: true });
      writeFileSync(join(dir, "meta", "_journal.json"), "{}");
      await eventually("the rewrite reported", () => rewritten.length > 0);
      // One settle reports both lists: nothing new came with the rewrite.
      expect(seen).toEqual([]);
      expect(rewritten).toEqual([["0001_init.sql"]]);
      // Written again as it is now: nothing changed, nothing reported.
      writeFileSync(join(dir, "0001_init.sql"), "create table a (id text, b text);\n");
      await new Promise((r) => setTimeout(r, 300));
      expect(rewritten).toEqual([["0001_init.sql"]]);
      writeFileSync(join(dir, "0002_orders_amount.sql"), "alter table a add b text;\n");
      writeFileSync(join(dir, "meta", "_journal.json"), "{ }");
      await eventually("the new file reported", () => seen.length > 0);
      expect(seen).toEqual([["0002_orders_amount.sql"]]);
      expect(rewritten).toEqual([["0001_init.sql"]]);
      stop();
      writeFileSync(join(dir, "0003_after_stop.sql"), "select 1;\n");
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toEqual([["0002_orders_amount.sql"]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a wrangler.toml written in place (truncated, then written) while npm start runs", () => {
  const dir = mkdtempSync(join(tmpdir(), "plinth-toml-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const full = readFileSync(join(import.meta.dirname, "..", "..", "wrangler.toml"), "utf8");
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Writes `text` to `file` as `cp` does (truncate, then write), with pauses between the parts. */
  async function writeInPlace(file: string, parts: string[], pauseMs: number) {
    const fd = openSync(file, "w");
    for (const part of parts) {
      await sleep(pauseMs);
      writeSync(fd, part);
    }
    closeSync(fd);
  }

  it("reads a file as whole only once it parses and stops changing", async () => {
    const file = join(dir, "settle.toml");
    writeFileSync(file, full);
    const writing = writeInPlace(file, [full.slice(0, 200), full.slice(200)], 250);
    const settled = await settleFile(file, {
      quietMs: 100,
      complete: (text) => text.endsWith("\n") && text.length === full.length,
    });
    await writing;
    expect(settled).toEqual({ text: full, complete: true });
    // A file that stays broken is the developer's edit: given up on, said as not complete.
    writeFileSync(file, "name = ");
    expect(await settleFile(file, { quietMs: 50, complete: () => false, timeoutMs: 300 })).toEqual({
      text: "name = ",
      complete: false,
    });
  });

  it("wrangler's reader takes the whole file, not an empty or a half-written one", async () => {
    const file = join(dir, "reader.toml");
    writeFileSync(file, full);
    expect(await wranglerTomlReadable(file)).toBe(true);
    writeFileSync(file, "");
    expect(await wranglerTomlReadable(file)).toBe(false);
    writeFileSync(file, full.slice(0, full.indexOf("compatibility_date") + 10));
    expect(await wranglerTomlReadable(file)).toBe(false);
  });

  it("regenerates from the whole file once, not from the empty one a slow writer left for a while", async () => {
    const root = join(dir, "watched");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "wrangler.toml"), full);
    const seen: string[] = [];
    const stop = watchWranglerToml(root, () => seen.push(readFileSync(join(root, "wrangler.toml"), "utf8")), 100);
    try {
      await sleep(100);
      await writeInPlace(join(root, "wrangler.toml"), [full.replace('LOG_LEVEL = "info"', 'LOG_LEVEL = "debug"')], 400);
      for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(100);
      await sleep(500);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toContain('LOG_LEVEL = "debug"');
      // Left empty, it gives nothing to generate from (objects.ts emptied, wrangler dev
      // started again at that change, to fail again); left broken, generate names the error.
      writeFileSync(join(root, "wrangler.toml"), "");
      await sleep(4000);
      expect(seen).toHaveLength(1);
      writeFileSync(join(root, "wrangler.toml"), "name = ");
      for (let i = 0; i < 60 && seen.length === 1; i++) await sleep(100);
      expect(seen).toEqual([seen[0], "name = "]);
    } finally {
      stop();
    }
  });

  it("says wrangler dev stopped as the file was being written only if it changed under that run and now reads whole", async () => {
    const root = join(dir, "raced");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "wrangler.toml"), full);
    await sleep(50);
    // Untouched since this wrangler dev started: a real error (in src/, say), not a race.
    expect(await wranglerTomlSettled(root, Date.now(), 50)).toBe(false);
    const startedAt = Date.now();
    await writeInPlace(join(root, "wrangler.toml"), [full], 30);
    expect(await wranglerTomlSettled(root, startedAt, 50)).toBe(true);
    // Saved long before this failure (a Worker that throws at load after a later src/ edit).
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(join(root, "wrangler.toml"), longAgo, longAgo);
    expect(await wranglerTomlSettled(root, startedAt - 120_000, 50)).toBe(false);
    // Saved broken (and so left): the developer's error stays on screen until the next save.
    writeFileSync(join(root, "wrangler.toml"), full.slice(0, full.indexOf("compatibility_date") + 10));
    expect(await wranglerTomlSettled(root, startedAt, 50)).toBe(false);
  });
});
