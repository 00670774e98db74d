/** The `identity` module: users, passwords, sessions, API keys, roles. Read by `npm run generate`: imports nothing. */
export const manifest = {
  name: "identity",
  version: "1.0.0",
  description: "Users, passwords (Argon2id), JWT access tokens with rotating refresh tokens, API keys.",
  base_path: "",
  permissions: [
    "identity.user.read",
    "identity.user.update",
    "identity.user.delete",
    "identity.user.suspend",
    "identity.user.export",
    "admin.keys.read",
    "admin.keys.write",
    "admin.roles.read",
    "admin.roles.write",
    "admin.settings.read",
    "admin.settings.write",
    "identity.invitation.read",
    "identity.invitation.write",
    "admin.sso.read",
    "admin.sso.write",
  ],
  // A webhook following these facts needs the permission that reads them through the API. Its
  // other events (sign-ins that failed, tokens, passwords, two-factor, the tenant's own) are
  // shown by the audit log alone, whose `*` rule covers them.
  event_read: {
    "identity.user.*": "identity.user.read",
    // Sessions are listed by /admin/users/{id}/sessions, which needs identity.user.update.
    "identity.user.logged_in": "identity.user.update",
    // Who exported a member's data is read where the export is taken: GET /users/{id}/export.
    "identity.user.exported": "identity.user.export",
    "identity.invitation.*": "identity.invitation.read",
    "identity.key.*": "admin.keys.read",
    "identity.role.*": "admin.roles.read",
    "identity.settings.*": "admin.settings.read",
    "identity.sso.configured": "admin.sso.read",
    "identity.sso.removed": "admin.sso.read",
  },
} as const;
