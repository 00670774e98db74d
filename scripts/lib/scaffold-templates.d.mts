// Types of scaffold-templates.mjs for the TypeScript tests that import it.
export interface Names {
  name: string;
  type: string;
  Type: string;
  plural: string;
  table: string;
  /** The type with its indefinite article: "an order", "a widget". */
  a: string;
  /** The same, capitalised: "An order". */
  A: string;
  /** The resource's path within the module: "" when its plural is the module's name, else "/<plural>". */
  route: string;
  /** Its full path: "/api/v1/orders" for orders/order, "/api/v1/shop/orders" for shop/order. */
  url: string;
}
export declare function namesOf(name: string, type: string): Names;
type Template = (n: Names) => string;
export declare const manifest: Template;
export declare const errors: Template;
export declare const domain: Template;
export declare const readModel: Template;
export declare const projection: Template;
export declare const routes: Template;
export declare const index: (n: Names, actor?: import("./scaffold-actor.mjs").ActorNames) => string;
export declare const domainTest: Template;
export declare const httpTest: Template;
export declare const projectionTest: Template;
export declare const sweep: Template;
