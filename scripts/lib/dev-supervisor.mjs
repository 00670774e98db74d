// Keeps `npm start` alive across a Worker that fails to load. wrangler dev exits when the
// rebuilt Worker throws at module load (a typo in a new module, a route reading a missing
// binding): the terminal was left at a shell prompt, and a product team had to notice and
// run npm start again. Once the Worker has been up, a failed wrangler is started again at
// the next change to the sources instead, with the error left on screen above.
import { readdirSync, readFileSync, statSync, watch } from "node:fs";
import { basename, dirname, join } from "node:path";
import { watchFolders } from "./watch-folders.mjs";

/**
 * @typedef {{ on(event: "exit", listener: (code: number | null, signal: string | null) => void): unknown, kill(signal?: string): unknown }} Child
 * @typedef {{
 *   start: () => Child,
 *   watch: (onChange: () => void) => () => void,
 *   log: (line: string) => void,
 *   exit: (code: number) => void,
 *   settle?: (startedAt: number) => Promise<boolean>,
 * }} Ports
 *   `settle`: asked at a failure, with when that wrangler dev started (ms since the epoch):
 *   whether it stopped because wrangler.toml was being written under it, and the file now
 *   reads whole (see {@link wranglerTomlSettled}); if so, it is started again at once.
 */

/**
 * Runs `start()`'s child under supervision. Before {@link up} is called an exit ends
 * everything with its code (the Worker never came up: the caller's health check says
 * why); after it, an exit with a failure waits for `watch` to report a change, then
 * starts a new child. A clean exit (0) or a {@link stop} ends everything.
 * @param {Ports} ports
 */
export function superviseDev(ports) {
  let child = ports.start();
  let wasUp = false;
  let stopping = false;
  let restarting = false;
  let exited = false;
  let unwatch = null;
  let startedAt = Date.now();
  // npm start rewrote a file the Worker imports while this child ran or started (permissions.ts
  // after a manifest's save): a failure may be of the files as they were, so it is tried once more.
  let rewrittenUnder = false;

  const startAgain = () => {
    exited = false;
    rewrittenUnder = false;
    startedAt = Date.now();
    child = ports.start();
    follow(child);
  };
  const follow = (c) => {
    c.on("exit", (code, signal) => {
      if (c !== child) return;
      exited = true;
      if (restarting && !stopping) {
        restarting = false;
        startAgain();
        return;
      }
      const failed = code !== 0 && code !== null;
      if (stopping || !wasUp || !failed) {
        ports.exit(code ?? (signal ? 0 : 1));
        return;
      }
      if (rewrittenUnder) {
        ports.log("plinth: wrangler dev stopped as src/generated/ was rewritten under it; starting it again…");
        startAgain();
        return;
      }
      unwatch = ports.watch(() => {
        unwatch?.();
        unwatch = null;
        if (stopping) return;
        ports.log("plinth: a change; starting wrangler dev again…");
        startAgain();
      });
      const waiting = unwatch;
      const stillWaiting = () => !stopping && unwatch === waiting && c === child;
      const fixIt = () =>
        ports.log(
          `plinth: wrangler dev stopped (exit ${code}); the error is above. Fix it and save: plinth starts it again at the next change in src/, durable-objects/, wasm/ or wrangler.toml. Ctrl-C stops.`,
        );
      if (!ports.settle) {
        fixIt();
        return;
      }
      // `cp other.toml wrangler.toml` truncates, then writes: wrangler dev may read the empty
      // or half-written file and exit once the whole one is there, so no change comes after.
      // Asked first, so that "fix it" is not said of a file that needs no fixing.
      ports.settle(startedAt).then(
        (raced) => {
          if (!stillWaiting()) return;
          if (!raced) {
            fixIt();
            return;
          }
          unwatch?.();
          unwatch = null;
          ports.log(
            "plinth: wrangler dev stopped as wrangler.toml was being written (it read the file empty or half); it now reads whole: starting wrangler dev again…",
          );
          startAgain();
        },
        () => {
          if (stillWaiting()) fixIt();
        },
      );
    });
  };
  follow(child);

  return {
    /** The Worker answered: from now on a failed wrangler is restarted at the next change. */
    up() {
      wasUp = true;
    },
    /** Whether the current child has exited (a health check stops waiting then). */
    get exited() {
      return exited;
    },
    /**
     * Starts wrangler dev again (it reads `.dev.vars` only when it starts): the running child
     * is stopped with SIGINT and a new one started when it has exited; while waiting after a
     * failure, a new one starts at once.
     */
    restart() {
      if (stopping || restarting) return;
      if (unwatch) {
        unwatch();
        unwatch = null;
        startAgain();
        return;
      }
      restarting = true;
      child.kill("SIGINT");
    },
    /**
     * npm start rewrote a generated source the Worker imports: if the running (or starting)
     * wrangler dev then fails, it may have built with the old file, and is started again at
     * once. While waiting after a failure, the rewrite is a change the watch reports itself.
     */
    rewrote() {
      if (!exited) rewrittenUnder = true;
    },
    /** Stops the child with `signal` and ends with its exit; ends at once when no child runs. */
    stop(signal) {
      stopping = true;
      if (unwatch) {
        unwatch();
        unwatch = null;
        ports.exit(0);
        return;
      }
      child.kill(signal);
    },
  };
}

/** The folders wrangler dev rebuilds from, beside wrangler.toml: a change may fix a Worker that failed to load. */
const SOURCE_FOLDERS = ["src", "durable-objects", "wasm"];

/**
 * Calls `onChange` once the files under `root`'s sources stop changing for `quietMs`
 * (an editor's save is several events). Returns what stops watching.
 * @param {string} root
 * @param {() => void} onChange
 * @param {number} [quietMs]
 */
export function watchSources(root, onChange, quietMs = 300) {
  let timer;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, quietMs);
  };
  // Folder by folder (see watch-folders.mjs): a file saved by replacing it is heard every time.
  // At the top, only wrangler.toml and the source folders (wasm/ is optional to a product, and
  // may appear later); below them, everything.
  const atTop = (path) => dirname(path) === root;
  const stop = watchFolders(
    root,
    (folder, name) => {
      if (folder !== root || name === "wrangler.toml" || SOURCE_FOLDERS.includes(name ?? "")) changed();
    },
    { descend: (path) => !atTop(path) || SOURCE_FOLDERS.includes(basename(path)) },
  );
  return () => {
    clearTimeout(timer);
    stop();
  };
}

/**
 * Calls `onChange` once the modules' manifests (`src/modules/<name>/manifest.ts`) stop changing
 * for `quietMs`. A permission is a `PERMISSIONS` constant only once `src/generated/permissions.ts`
 * has it, and a route using one that does not exist yet stops the Worker as it loads: npm start
 * regenerates the file at each save of a manifest, so declaring the permission is the whole step.
 * Other saves under src/modules are wrangler dev's alone. Returns what stops watching.
 * @param {string} root
 * @param {() => void} onChange
 * @param {number} [quietMs]
 */
export function watchManifests(root, onChange, quietMs = 300) {
  let timer;
  const modules = join(root, "src", "modules");
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, quietMs);
  };
  // Each module's folder (see watch-folders.mjs: a manifest saved by replacing it is heard
  // every time), a module added meanwhile (plinth new module) from its folder's appearance.
  const stop = watchFolders(
    modules,
    (folder, name) => {
      if (folder !== modules && name === "manifest.ts") changed();
    },
    { descend: (path) => dirname(path) === modules },
  );
  return () => {
    clearTimeout(timer);
    stop();
  };
}

/**
 * Calls `onChange` once the file `name` at `root`'s top stops changing for `quietMs` (an
 * editor may replace the file, so the directory is watched, for that name), and, given
 * `settle`, once that resolves true (a later change starts the wait anew). Returns what stops
 * watching.
 * @param {string} root
 * @param {string} name
 * @param {() => void} onChange
 * @param {number} quietMs
 * @param {() => Promise<boolean>} [settle]
 */
function watchTopFile(root, name, onChange, quietMs, settle) {
  let timer;
  let round = 0;
  let closed = false;
  const quiet = async () => {
    const mine = ++round;
    const go = settle ? await settle() : true;
    if (go && mine === round && !closed) onChange();
  };
  const watcher = watch(root, (_event, changed) => {
    if (changed !== name) return;
    round++;
    clearTimeout(timer);
    timer = setTimeout(quiet, quietMs);
  });
  return () => {
    closed = true;
    clearTimeout(timer);
    watcher.close();
  };
}

/** The file's text, or null when it cannot be read (between an editor's delete and rename). */
function readText(/** @type {string} */ file) {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/**
 * Reads `file` until it is whole: the same text twice, `quietMs` apart, that `complete` takes.
 * A writer that truncates, then writes (`cp`, a shell's `>`), leaves an empty or half file for
 * a while; one that stays so for `timeoutMs` is the developer's own (a broken save), and is
 * given back as it is, with `complete: false`.
 * @param {string} file
 * @param {{ quietMs?: number, timeoutMs?: number,
 *   complete: (text: string) => boolean | Promise<boolean> }} options
 * @returns {Promise<{ text: string | null, complete: boolean }>}
 */
export async function settleFile(file, { quietMs = 300, timeoutMs = 3000, complete }) {
  const deadline = Date.now() + timeoutMs;
  let text = readText(file);
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const again = readText(file);
    if (again === text && text !== null && (await complete(text))) return { text, complete: true };
    if (Date.now() >= deadline) return { text: again, complete: false };
    text = again;
  }
}

/**
 * Whether wrangler reads the config at `file` as a Worker's: it parses (wrangler's own reader,
 * loaded once, at the first save of wrangler.toml) and names its `main`. An empty file parses,
 * but names no Worker: wrangler dev stops at it ("Missing entry-point").
 * @param {string} file
 */
export async function wranglerTomlReadable(file) {
  try {
    const { unstable_readConfig } = await import("wrangler");
    return Boolean(unstable_readConfig({ config: file }).main);
  } catch {
    return false;
  }
}

/** Whether `file`'s text, as wrangler would read it, is whole (see {@link wranglerTomlReadable}). */
const wranglerTomlWhole = (/** @type {string} */ file) => (/** @type {string} */ text) =>
  text.trim() !== "" && wranglerTomlReadable(file);

/**
 * Whether a wrangler dev that stopped with a failure, now, stopped because `wrangler.toml`
 * under `root` was being written as it read it: the file changed in the last `windowMs` and
 * since that wrangler dev started (`startedAt`, ms since the epoch), and once it stops
 * changing it reads whole. A file the developer left broken is not (the error stays on screen
 * until the next save); one that reads whole but still stops wrangler dev costs one start
 * more, which it outlives. A failure in src/ long after a save of wrangler.toml is not either.
 * @param {string} root
 * @param {number} startedAt
 * @param {number} [quietMs]
 * @param {number} [windowMs]
 */
export async function wranglerTomlSettled(root, startedAt, quietMs = 300, windowMs = 5000) {
  const file = join(root, "wrangler.toml");
  try {
    if (statSync(file).mtimeMs < Math.max(startedAt, Date.now() - windowMs)) return false;
  } catch {
    return false;
  }
  return (await settleFile(file, { quietMs, complete: wranglerTomlWhole(file) })).complete;
}

/**
 * Calls `onChange` once `.dev.vars` under `root` stops changing for `quietMs`: wrangler dev
 * reads it only when it starts, so npm start restarts it. Returns what stops watching.
 * @param {string} root
 * @param {() => void} onChange
 * @param {number} [quietMs]
 */
export function watchDevVars(root, onChange, quietMs = 300) {
  return watchTopFile(root, ".dev.vars", onChange, quietMs);
}

/**
 * Calls `onChange` once `wrangler.toml` under `root` stops changing for `quietMs` and reads
 * whole (see {@link settleFile}): the generated sources read its Durable Object bindings
 * (lib/dev-generated.mjs), and a file written in place (`cp other.toml wrangler.toml`) read
 * empty gave objects.ts no class, or half, a TOML error, until the write's own event came.
 * A file left broken is still reported (generate names the error); one left empty is not:
 * generating from it only emptied objects.ts, a change under src/ that started a wrangler dev
 * bound to fail again. Returns what stops watching.
 * @param {string} root
 * @param {() => void} onChange
 * @param {number} [quietMs]
 */
export function watchWranglerToml(root, onChange, quietMs = 300) {
  const file = join(root, "wrangler.toml");
  return watchTopFile(root, "wrangler.toml", onChange, quietMs, async () => {
    const { text, complete } = await settleFile(file, { quietMs, complete: wranglerTomlWhole(file) });
    return complete || (text !== null && text.trim() !== "");
  });
}

/** The migration files in `dir` (drizzle-kit's `0007_x.sql`; its meta/ journal is not one). */
function migrationFiles(dir) {
  try {
    return readdirSync(dir).filter((name) => name.endsWith(".sql"));
  } catch {
    return [];
  }
}

/**
 * Calls `onNew(names)` with the migration files that appeared in `dir` since it was last
 * called (or since watching began), once the folder stops changing for `quietMs`:
 * `npx drizzle-kit generate` while npm start runs writes one, and a reloaded Worker would
 * read its table without it (a column not there reads as its own name in SQLite). A file
 * whose content changed (edited, or removed and generated again under its name) is not new:
 * wrangler applies a migration once, by name. It goes to `onRewritten(names)` instead, so
 * npm start can say the local D1 may not have it (the silence let a reshaped scaffold's
 * table stay as first applied, its projection waiting for a column). Returns what stops watching.
 * @param {string} dir
 * @param {(names: string[]) => void} onNew
 * @param {number} [quietMs]
 * @param {(names: string[]) => void} [onRewritten]
 */
export function watchMigrations(dir, onNew, quietMs = 300, onRewritten = () => {}) {
  /** @type {Map<string, string | null>} each file's content as last seen */
  const known = new Map(migrationFiles(dir).map((name) => [name, contentOf(dir, name)]));
  let timer;
  const settle = () => {
    const added = [];
    const rewritten = [];
    for (const name of migrationFiles(dir)) {
      const content = contentOf(dir, name);
      if (!known.has(name)) added.push(name);
      else if (content !== known.get(name)) rewritten.push(name);
      known.set(name, content);
    }
    if (added.length > 0) onNew(added.sort());
    if (rewritten.length > 0) onRewritten(rewritten.sort());
  };
  let watcher;
  try {
    watcher = watch(dir, () => {
      clearTimeout(timer);
      timer = setTimeout(settle, quietMs);
    });
  } catch {
    // No migrations/ folder (yet): nothing to apply.
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}

/** A migration file's text, or null when it is gone (removed between the listing and the read). */
function contentOf(dir, name) {
  try {
    return readFileSync(join(dir, name), "utf8");
  } catch {
    return null;
  }
}
