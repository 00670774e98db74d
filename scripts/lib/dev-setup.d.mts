// Types of dev-setup.mjs for the TypeScript tests that import it.
export declare function readDevVars(): Record<string, string>;
/** A secret file npm start cannot read, chmod or write (another user's); its message says what to do. */
export declare class SecretFileError extends Error {}
/** The file calls of the secret files, which a test replaces (as root, chmod never fails). */
export interface SecretFiles {
  chmodSync(path: string, mode: number): void;
  readFileSync(path: string, encoding: "utf8"): string;
  writeFileSync(path: string, text: string, options: { mode: number }): void;
}
/** `path`: .dev.vars of the checkout by default. */
export declare function ensureDevVars(path?: string, files?: SecretFiles): Record<string, string>;
export interface DemoTenant {
  tenant_id: string;
  slug: string;
  admin_key: string;
}
export declare function ensureDemoTenant(
  origin: string,
  rootKey: string,
  path?: string,
  options?: { timeout?: string; files?: SecretFiles },
): Promise<DemoTenant | { error: string }>;
/** How long each setup call to the local Worker may take (`30s`). */
export declare const SETUP_TIMEOUT: string;
