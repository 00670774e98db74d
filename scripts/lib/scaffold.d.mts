// Types of scaffold.mjs for the TypeScript tests that import it.
export declare function defaultType(name: string): string;
/** The problems with scaffolding module `name` of aggregate `type` in `root`; none: go. */
export declare function problemsOf(root: string, name: string, type: string): string[];
/** The problems with scaffolding a `--projection` module `name` in `root` (its publisher aside); none: go. */
export declare function projectionProblemsOf(root: string, name: string): string[];
export declare function scaffoldProjection(
  root: string,
  n: import("./scaffold-projection.mjs").ProjectionNames,
): string[];
export declare function register(root: string, name: string): string;
export declare function scaffold(
  root: string,
  name: string,
  type: string,
  actor?: import("./scaffold-actor.mjs").ActorNames,
): string[];
/** Saves what the scaffold's steps change; the function it returns puts it back and removes the files written. */
export declare function checkpoint(root: string, name: string): (written: readonly string[]) => void;
