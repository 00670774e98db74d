// Watching a tree of folders for the names in each, for npm start's watchers.
//
// Each folder is watched, not each file: an editor (or sed -i) that saves by replacing a file
// leaves a watch on the file it replaced, and Node 20's recursive fs.watch on Linux, which
// watches files one by one, is silent for that file from then on. A folder's watch reports
// the name of whatever is written, replaced or made in it, as long as the folder lives.
import { readdirSync, statSync, watch } from "node:fs";
import { join } from "node:path";

/**
 * Watches `dir` and, below it, each folder `descend(path)` accepts (all of them when not given),
 * including folders made later; calls `onName(folder, name)` for each event in one of them
 * (`name` is null when the platform does not say). Returns what stops watching.
 * @param {string} dir
 * @param {(folder: string, name: string | null) => void} onName
 * @param {{ descend?: (path: string) => boolean }} [options]
 * @returns {() => void}
 */
export function watchFolders(dir, onName, { descend = () => true } = {}) {
  let closed = false;
  /** @type {Map<string, { watcher: import("node:fs").FSWatcher, ino: number }>} by path */
  const watched = new Map();
  const statOf = (path) => {
    try {
      return statSync(path);
    } catch {
      return null;
    }
  };
  const forget = (folder) => {
    watched.get(folder)?.watcher.close();
    watched.delete(folder);
  };
  // What is at `path` now: a folder not watched yet is, a folder removed (or made again, a
  // new one at the old name: its old watch hears nothing more) is forgotten.
  const follow = (path) => {
    const stat = statOf(path);
    const known = watched.get(path);
    if (known && known.ino !== stat?.ino) forget(path);
    if (stat?.isDirectory() && !watched.has(path) && descend(path)) watchFolder(path, stat.ino);
  };
  const watchFolder = (folder, ino) => {
    if (closed) return;
    let watcher;
    try {
      watcher = watch(folder, (_event, name) => {
        const named = name ? String(name) : null;
        if (named !== null) follow(join(folder, named));
        onName(folder, named);
      });
    } catch {
      // Gone already (a folder removed as it appeared): nothing to watch.
      return;
    }
    watcher.on("error", () => forget(folder));
    watched.set(folder, { watcher, ino });
    // What it holds already: mkdir -p makes several levels before the first event is read.
    let entries = [];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      // Removed between its watch and this read: nothing below it to watch.
    }
    for (const e of entries) if (e.isDirectory()) follow(join(folder, e.name));
  };
  const top = statOf(dir);
  if (top?.isDirectory()) watchFolder(dir, top.ino);
  return () => {
    closed = true;
    for (const { watcher } of watched.values()) watcher.close();
    watched.clear();
  };
}
