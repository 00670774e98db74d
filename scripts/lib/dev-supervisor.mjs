// Keeps `npm start` alive across a Worker that fails to load. wrangler dev exits when the
// rebuilt Worker throws at module load (a typo in a new module, a route reading a missing
// binding): the terminal was left at a shell prompt, and a product team had to notice and
// run npm start again. Once the Worker has been up, a failed wrangler is started again at
// the next change to the sources instead, with the error left on screen above.
import { readdirSync, watch } from "node:fs";
import { join } from "node:path";

/**
 * @typedef {{ on(event: "exit", listener: (code: number | null, signal: string | null) => void): unknown, kill(signal?: string): unknown }} Child
 * @typedef {{
 *   start: () => Child,
 *   watch: (onChange: () => void) => () => void,
 *   log: (line: string) => void,
 *   exit: (code: number) => void,
 * }} Ports
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

  const startAgain = () => {
    exited = false;
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
      ports.log(
        `plinth: wrangler dev stopped (exit ${code}); the error is above. Fix it and save: plinth starts it again at the next change in src/, durable-objects/, wasm/ or wrangler.toml. Ctrl-C stops.`,
      );
      unwatch = ports.watch(() => {
        unwatch?.();
        unwatch = null;
        if (stopping) return;
        ports.log("plinth: a change; starting wrangler dev again…");
        startAgain();
      });
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

/** What wrangler dev rebuilds from: a change here may fix a Worker that failed to load. */
const WATCHED = ["src", "durable-objects", "wasm", "wrangler.toml"];

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
  const watchers = [];
  for (const name of WATCHED) {
    try {
      watchers.push(watch(join(root, name), { recursive: true }, changed));
    } catch {
      // A checkout without one of them (wasm/ is optional to a product): nothing to watch there.
    }
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}

/**
 * Calls `onChange` once the file `name` at `root`'s top stops changing for `quietMs` (an
 * editor may replace the file, so the directory is watched, for that name). Returns what
 * stops watching.
 * @param {string} root
 * @param {string} name
 * @param {() => void} onChange
 * @param {number} [quietMs]
 */
function watchTopFile(root, name, onChange, quietMs) {
  let timer;
  const watcher = watch(root, (_event, changed) => {
    if (changed !== name) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, quietMs);
  });
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
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
 * Calls `onChange` once `wrangler.toml` under `root` stops changing for `quietMs`: the
 * generated sources read its Durable Object bindings (lib/dev-generated.mjs). Returns what
 * stops watching.
 * @param {string} root
 * @param {() => void} onChange
 * @param {number} [quietMs]
 */
export function watchWranglerToml(root, onChange, quietMs = 300) {
  return watchTopFile(root, "wrangler.toml", onChange, quietMs);
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
 * edited or removed is not new: wrangler applies a migration once, by name. Returns what
 * stops watching.
 * @param {string} dir
 * @param {(names: string[]) => void} onNew
 * @param {number} [quietMs]
 */
export function watchMigrations(dir, onNew, quietMs = 300) {
  const known = new Set(migrationFiles(dir));
  let timer;
  const settle = () => {
    const added = migrationFiles(dir).filter((name) => !known.has(name));
    for (const name of added) known.add(name);
    if (added.length > 0) onNew(added.sort());
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
