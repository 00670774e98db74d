// Types of patch-deps.mjs for the TypeScript tests that import it.
export interface DependencyFix {
  name: string;
  file: string;
  before: string;
  after: string;
}
export declare const FIXES: DependencyFix[];
export declare function applyFixes(
  base?: string,
): { fix: DependencyFix; state: "absent" | "applied already" | "not recognised" | "applied" }[];
