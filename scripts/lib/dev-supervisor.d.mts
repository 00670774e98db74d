// Types of dev-supervisor.mjs for the TypeScript tests that import it.
export interface SupervisedChild {
  on(event: "exit", listener: (code: number | null, signal: string | null) => void): unknown;
  kill(signal?: string): unknown;
}
export interface SupervisorPorts {
  start: () => SupervisedChild;
  watch: (onChange: () => void) => () => void;
  log: (line: string) => void;
  exit: (code: number) => void;
  settle?: (startedAt: number) => Promise<boolean>;
}
export declare function superviseDev(ports: SupervisorPorts): {
  up(): void;
  readonly exited: boolean;
  restart(): void;
  rewrote(): void;
  stop(signal: string): void;
};
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
export declare function settleFile(
  file: string,
  options: { quietMs?: number; timeoutMs?: number; complete: (text: string) => boolean | Promise<boolean> },
): Promise<{ text: string | null; complete: boolean }>;
export declare function wranglerTomlReadable(file: string): Promise<boolean>;
export declare function wranglerTomlSettled(
  root: string,
  startedAt: number,
  quietMs?: number,
  windowMs?: number,
): Promise<boolean>;
