import { z } from "@hono/zod-openapi";
import { storedJson } from "../../../kernel/db/stored-json";
import type { Origin } from "../../../kernel/events/origin";
import { type ExpectedVersion, versionMatches } from "../../../kernel/http/if-match";
import { DEFAULT_POLICIES, tenantSettable } from "../../../kernel/ratelimit/policies";
import { MailLinksSchema, mailLinksFacts, NO_MAIL_LINKS } from "../mail-links";
import { OPEN_SIGNUP, SignupPolicySchema } from "../signup";
import type { DirectoryStore } from "./store";
import { ok, type VersionConflict, versionConflict } from "./types";

/** A tenant's own limit for one rate-limit policy. */
export const TenantRateSchema = z.object({
  limit: z.number().int().min(1).max(10_000_000),
  period_s: z.number().int().min(1).max(86_400),
});

/**
 * What `rate_limits` holds and which keys it takes, from the same list the 400 for any other key
 * names: a client reading the schema need not learn them by being refused. A deployment's
 * `RATE_LIMITS` can change which policies allow it, hence "by default". The modules' own are
 * described by their shape only: this schema is made when identity is imported, before any
 * registry says which modules there are.
 */
const RATE_LIMITS_DESCRIPTION = `The tenant's own limits, by rate-limit policy name (docs/gateway.md). The policies a tenant may set, by default: ${tenantSettable(
  DEFAULT_POLICIES,
)
  .map((name) => `\`${name}\``)
  .join(
    ", ",
  )}; besides them, each \`<module>.<name>\` policy a registered module declares with \`tenant_override\` (docs/modules.md); any other name is refused with 400, whose message lists the ones this deployment allows.`;

/** A tenant's settings as the contract shows them; `version` counts changes from 1. */
export const SettingsSchema = z
  .object({
    require_verified_email: z.boolean(),
    /** Who may register by themselves (docs/identity.md#signup-policy). */
    signup: SignupPolicySchema,
    /** Users whose roles grant any `admin.*` permission must have two-factor on to log in (docs/identity.md#two-factor-authentication). */
    require_two_factor_for_admins: z.boolean(),
    cors_origins: z.array(z.string()),
    rate_limits: z.record(z.string(), TenantRateSchema).openapi({ description: RATE_LIMITS_DESCRIPTION }),
    /** Links into the tenant's app for verification, reset and invitation mail (docs/identity.md#mail). */
    mail_links: MailLinksSchema,
    version: z.number().int().min(1),
  })
  .openapi("TenantSettings");
export type Settings = z.infer<typeof SettingsSchema>;

/** A change of settings: the fields given replace the stored ones. */
export const SettingsPatchSchema = SettingsSchema.omit({ version: true }).partial();
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

const KEYS = [
  "require_verified_email",
  "signup",
  "require_two_factor_for_admins",
  "cors_origins",
  "rate_limits",
  "mail_links",
] as const;

/**
 * A tenant's settings in its directory: one JSON value per setting in the
 * `settings` table, and a version that every change bumps, so a client can
 * change them with If-Match without losing another client's change.
 */
export class TenantSettings {
  constructor(private readonly store: DirectoryStore) {}

  current(): Settings {
    const json = (key: string) => {
      const v = this.store.setting(key);
      if (v === null) return undefined;
      return storedJson(v, `setting ${key}`);
    };
    return SettingsSchema.parse({
      require_verified_email: json("require_verified_email") ?? false,
      signup: json("signup") ?? OPEN_SIGNUP,
      require_two_factor_for_admins: json("require_two_factor_for_admins") ?? false,
      cors_origins: json("cors_origins") ?? [],
      rate_limits: json("rate_limits") ?? {},
      mail_links: json("mail_links") ?? NO_MAIL_LINKS,
      version: json("settings_version") ?? 1,
    });
  }

  /** Whether `patch` changes setting `key` (a value equal to the current one changes nothing). */
  changes(patch: SettingsPatch, key: (typeof KEYS)[number]): boolean {
    return patch[key] !== undefined && JSON.stringify(patch[key]) !== JSON.stringify(this.current()[key]);
  }

  /** Applies a patch at `expectedVersion` (any when absent); records `identity.settings.updated`. */
  update(
    ctx: Origin,
    patch: SettingsPatch,
    expectedVersion: ExpectedVersion | undefined,
  ): { ok: true; value: Settings } | VersionConflict {
    const before = this.current();
    if (!versionMatches(expectedVersion, before.version)) return versionConflict(before.version);
    const fields = KEYS.filter((k) => patch[k] !== undefined && JSON.stringify(patch[k]) !== JSON.stringify(before[k]));
    if (fields.length === 0) return ok(before);
    const after: Settings = { ...before, ...patch, version: before.version + 1 };
    this.store.tx(() => {
      for (const k of fields) this.store.setSetting(k, JSON.stringify(after[k]));
      this.store.setSetting("settings_version", String(after.version));
      // Where mail links lead is on record, not only that they changed: they decide who receives reset tokens.
      const links = fields.includes("mail_links") ? mailLinksFacts(after.mail_links) : {};
      const data = { ...after, fields };
      this.store.emit(ctx, "settings", { type: "identity.settings.updated", data }, { fields, ...links });
    });
    return ok(after);
  }
}
