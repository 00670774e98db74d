import type { ModuleDef } from "../kernel/modules/types";
import { audit } from "./audit";
import { blog } from "./blog";
import { events } from "./events";
import { files } from "./files";
import { identity } from "./identity";
import { system } from "./system";
import { tenants } from "./tenants";
import { webhooks } from "./webhooks";

/**
 * The registered modules: the one list a product team edits to add or remove
 * a module. Order here does not matter; the registry orders by dependencies.
 */
export const modules: ModuleDef[] = [system(), tenants(), identity(), events(), blog(), audit(), webhooks(), files()];
