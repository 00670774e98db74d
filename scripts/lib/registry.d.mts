// Types of registry.mjs for the TypeScript tests that import it.
/** The module list and the registry's functions, bundled for Node. */
export declare function loadRegistry(): Promise<{
  modules: object[];
  resolveModules: (...args: unknown[]) => unknown;
  publishedBy: (...args: unknown[]) => unknown;
  ModuleRegistryError: new (...args: unknown[]) => Error;
  isMiddlewareRoute: (route: { method: string; handler: unknown }) => boolean;
}>;
/**
 * The HTTP operations a module mounts: `METHOD /api/v1/…/{id}`, as a client calls them and the OpenAPI
 * document names them, an `.all()` endpoint as `ALL`; middleware, told by `isMiddlewareRoute`, left out.
 */
export declare function routesOf(
  m: {
    name: string;
    base_path?: string;
    routes?: { routes: readonly { method: string; path: string; handler: unknown }[] };
    root_routes?: { routes: readonly { method: string; path: string; handler: unknown }[] };
  },
  isMiddlewareRoute: (route: { method: string; handler: unknown }) => boolean,
): string[];
/** A module's own rate-limit policies, sorted by name: `inventory.write (60/60s sync)`, with `, tenant up to N` when a tenant may set its own. */
export declare function rateLimitsOf(m: {
  rate_limits?: Record<
    string,
    { limit: number; period_s: number; mode: string; tenant_override: boolean; max_limit: number }
  >;
}): string[];
