/** Types for plinth-config.mjs, for the Node tests that serve plinth as the bench does. */
export const POLICY_NAMES: string[];
export function rateLimits(policies: Record<string, object>): string;
