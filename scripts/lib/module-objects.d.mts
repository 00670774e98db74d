// Types of module-objects.mjs for the TypeScript tests that import it.
export declare function boundClasses(root: string): Promise<Record<string, string>>;
export declare function workerExports(root: string): Promise<Record<string, unknown>>;
export declare function wranglerTomlProblem(error: unknown): string;
export declare function objectProblems(
  modules: readonly { name: string; bindings?: Readonly<Record<string, string>> }[],
  classes: Readonly<Record<string, string>>,
  exports: Readonly<Record<string, unknown>>,
): { module: string; problem: string }[];
