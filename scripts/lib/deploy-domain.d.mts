/** Types for deploy-domain.mjs, for the Node tests of `npm run deploy`. */
export const DNS_NAME: RegExp;
export function domainChecks(
  config: { routes?: unknown[]; route?: unknown; vars?: Record<string, unknown> },
  env: string,
): { problems: string[]; warnings: string[] };
