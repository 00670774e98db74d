// Types of dev-generated.mjs for the TypeScript tests that import it.
export declare function generateSources(root: string): Promise<{ code: number; output: string }>;
export declare function writtenFiles(output: string): string[];
export declare function refreshGenerated(options: {
  root: string;
  why: string;
  say: (line: string) => void;
  generate?: (root: string) => Promise<{ code: number; output: string }>;
}): Promise<string[] | null>;
