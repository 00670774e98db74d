// Types of scaffold-actor.mjs for the TypeScript tests that import it.
export interface ActorNames {
  name: string;
  Class: string;
  binding: string;
  schema: string;
  factory: string;
  Rpc: string;
  client: string;
  contractFile: string;
  classFile: string;
  testFile: string;
}
export declare function actorNamesOf(name: string): ActorNames;
export declare function actorProblems(root: string, a: ActorNames): string[];
export declare function bindActor(root: string, a: ActorNames): string;
export declare function exportActor(root: string, a: ActorNames): string;
type Template = (a: ActorNames) => string;
export declare const contract: Template;
export declare const actorClass: Template;
export declare const actorTest: Template;
