/** Types for deploy-vars.mjs, for the Node tests of `npm run deploy`. */
export interface ConfigCheck {
  parseConfig: (
    env: Record<string, unknown>,
    needs: {
      bindings: Record<string, string>;
      variables: Record<string, unknown>;
      ratePolicies?: Record<string, unknown>;
    },
  ) => { ok: true } | { ok: false; issues: { variable: string; message: string }[] };
  kernelVariables: ReadonlySet<string>;
  moduleVariables: Record<string, unknown>;
  moduleRatePolicies: Record<string, unknown>;
}
export function loadConfigCheck(): Promise<ConfigCheck>;
export function varsProblems(
  check: ConfigCheck,
  vars: Record<string, unknown>,
  env: string,
  injected?: Record<string, string>,
): string[];
