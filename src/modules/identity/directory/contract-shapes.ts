import { z } from "zod";
import { OriginSchema } from "../../../kernel/events/origin";
import { USER_AGENT_MAX } from "./sessions";
import { ROLE_NAME_PATTERN } from "./types";

// The argument shapes every part of the TenantDirectory's RPC contract (contract.ts and the
// *-contract.ts beside it) checks: the Worker is trusted, but a bug on its side must not corrupt a
// tenant's directory. Written once, so the parts cannot drift apart.

export const Id = z.string().min(1).max(64);
/** A token's SHA-256, hex: tokens themselves never cross into the directory. */
export const Hash = z.string().regex(/^[0-9a-f]{64}$/);
export const Iso = z.iso.datetime();
export const Email = z.string().min(3).max(320);
export const PasswordHash = z.string().max(512);
export const RoleName = z.string().regex(ROLE_NAME_PATTERN);
/** The client's `User-Agent`, already truncated by the Worker (directory/sessions.ts clamps it again). */
export const UserAgent = z.string().max(USER_AGENT_MAX).nullish();
export const Page = z.object({ limit: z.number().int().min(1).max(100), cursor: z.string().max(64).nullable() });
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next: z.string().nullable() });
/** A write's arguments: who asks, when and from where (`ctx`), with the method's own. */
export const withCtx = <T extends z.ZodRawShape>(shape: T) => z.object({ ctx: OriginSchema, ...shape });
