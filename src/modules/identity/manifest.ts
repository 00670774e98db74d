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
} as const;
