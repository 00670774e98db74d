import type { Context } from "hono";
import { PERMISSIONS } from "../../generated/permissions";
import { tenantOf } from "../../kernel/auth/guards";
import type { AppEnv } from "../../kernel/env";
import { AppError } from "../../kernel/errors";
import { originOf } from "../../kernel/events/origin";
import { type MemberExport, SubjectGone } from "../../kernel/modules/personal-data";
import { directory } from "./directory/contract";
import { refused } from "./refusals";

/**
 * Who may take an administrator's copy of a member's export (`GET /api/v1/users/{id}/export`,
 * docs/identity.md#an-administrators-copy-of-a-members-data): `identity.user.export`, which
 * `owner` and `admin` hold through `*` and `viewer`'s `*.read` does not cover; only an owner
 * exports an owner (policy.ts, `user.export`). The directory decides with its current roles and
 * records the export (`identity.user.exported`, the caller as actor, the member as target) in
 * the same call, before any module reads. A person's own export is recorded the same way, they
 * being actor and target (recordOwn).
 */
export const memberExport: MemberExport = {
  permission: PERMISSIONS.identity.user.export,
  async admit(c: Context<AppEnv>, userId: string) {
    const result = await directory(c.env, tenantOf(c).id).admitUserExport({ ctx: originOf(c), id: userId });
    if (result.ok) return;
    if (result.error === "denied") throw refused(c, result.refusal, userId);
    throw new AppError("not_found", { detail: "no such user" });
  },
  async recordOwn(c: Context<AppEnv>) {
    const result = await directory(c.env, tenantOf(c).id).recordOwnExport({ ctx: originOf(c) });
    if (!result.ok) throw new SubjectGone();
  },
};
