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
