// Types of scaffold-projection.mjs for the TypeScript files that import it.
export interface ProjectionNames {
  name: string;
  Name: string;
  publisher: string;
  /** The publisher's event types when the scaffold ran. */
  types: readonly string[];
  depends: Record<string, string>;
  table: string;
  url: string;
  permission: string;
}
export declare function projectionNamesOf(
  name: string,
  publisher: { name: string; version: string },
  types: readonly string[],
): ProjectionNames;
/** Why `--projection <publisher>` cannot be written, naming the modules that publish; or null. */
export declare function publisherProblem(
  publisher: string,
  registered: readonly { name: string; types: readonly string[] }[],
): string | null;
