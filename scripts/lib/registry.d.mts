// Types of registry.mjs for the TypeScript tests that import it.
/** The module list and the registry's functions, bundled for Node. */
export declare function loadRegistry(): Promise<{
  modules: object[];
  resolveModules: (...args: unknown[]) => unknown;
  publishedBy: (...args: unknown[]) => unknown;
  ModuleRegistryError: new (...args: unknown[]) => Error;
}>;
/** The HTTP operations a module mounts: `METHOD /api/v1/…/{id}`, as a client calls them and the OpenAPI document names them. */
export declare function routesOf(m: {
  name: string;
  base_path?: string;
  routes?: { routes: readonly { method: string; path: string }[] };
  root_routes?: { routes: readonly { method: string; path: string }[] };
}): string[];
