// What npm start watches while wrangler dev runs: the sources (a change may fix a Worker that
// failed to load), the modules' manifests (permissions.ts is generated from them), .dev.vars and
// wrangler.toml (read by wrangler dev only as it starts), and migrations/ (new files to apply).
import { readdirSync, readFileSync, watch } from "node:fs";
import { basename, dirname, join } from "node:path";
import { settleFile, wranglerTomlWhole } from "./dev-settle.mjs";
import { watchFolders } from "./watch-folders.mjs";

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
