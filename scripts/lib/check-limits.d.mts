// Types of check-limits.mjs for the TypeScript tests that import it.
export declare const IDLE_MINUTES: number;
export declare const CAP_MINUTES: number;
export declare function limitsOf(
  step: { size?: "quick" | "tests" | "install"; progress?: string },
  env?: { PLINTH_CHECK_MINUTES?: string },
): { limitSeconds: number; idleSeconds?: number; progressFile?: string };
