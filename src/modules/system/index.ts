import type { ModuleDef } from "../../kernel/modules/types";
import { manifest } from "./manifest";
import { systemRoutes } from "./routes";

/** The `system` module factory. */
export const system = () =>
  ({
    ...manifest,
    routes: systemRoutes,
  }) satisfies ModuleDef;
