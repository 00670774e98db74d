import { z } from "zod";
import { MAX_PERMISSION_LENGTH } from "../../../kernel/auth/permissions";

/**
 * The registered modules' additions to the default roles (`ModuleDef.grants`), by role, as the
 * directory takes them (`init`, `applyGrants`): a permission no longer than a role may hold.
 */
export const GrantsSchema = z.record(z.string().max(64), z.array(z.string().max(MAX_PERMISSION_LENGTH)).max(500));

/** One grant a sync added: the role and the permission (module-grants.ts `Grant`). */
export const GrantSchema = z.object({ role: z.string(), permission: z.string() });
