// Preloaded into a `plinth` run (NODE_OPTIONS=--import) by cli-local-errors.test.ts: a bug where
// the CLI does not expect one. mkdirSync throws a TypeError for a path naming `zzinjectedbug`, so
// `plinth new module zzinjectedbug` fails at its first write, before any file is written.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

const mkdirSync = fs.mkdirSync;
fs.mkdirSync = (path, options) => {
  if (String(path).includes("zzinjectedbug")) throw new TypeError("injected: a bug in the scaffold");
  return mkdirSync(path, options);
};
// So the named import (`import { mkdirSync } from "node:fs"`) sees it too.
syncBuiltinESMExports();
