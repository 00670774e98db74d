// Types of dev-setup.mjs for the TypeScript tests that import it.
export declare function readDevVars(): Record<string, string>;
/** `path`: .dev.vars of the checkout by default. */
export declare function ensureDevVars(path?: string): Record<string, string>;
export interface DemoTenant {
  tenant_id: string;
  slug: string;
  admin_key: string;
}
export declare function ensureDemoTenant(
  origin: string,
  rootKey: string,
  path?: string,
  options?: { timeout?: string },
): Promise<DemoTenant | { error: string }>;
/** How long each setup call to the local Worker may take (`30s`). */
export declare const SETUP_TIMEOUT: string;
