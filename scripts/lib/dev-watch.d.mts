// Types of dev-watch.mjs for the TypeScript tests that import it.
export declare function watchSources(root: string, onChange: () => void, quietMs?: number): () => void;
export declare function watchDevVars(root: string, onChange: () => void, quietMs?: number): () => void;
export declare function watchWranglerToml(root: string, onChange: () => void, quietMs?: number): () => void;
export declare function watchManifests(root: string, onChange: () => void, quietMs?: number): () => void;
export declare function watchMigrations(
  dir: string,
  onNew: (names: string[]) => void,
  quietMs?: number,
  onRewritten?: (names: string[]) => void,
): () => void;
