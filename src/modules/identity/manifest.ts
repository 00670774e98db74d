/** The `identity` module: users, passwords, sessions, API keys. */
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
  ],
  events: {
    publishes: [
      "identity.user.registered",
      "identity.user.updated",
      "identity.user.deleted",
      "identity.user.email_verified",
      "identity.user.logged_in",
      "identity.login.failed",
      "identity.token.refreshed",
      "identity.token.family_revoked",
      "identity.password.reset_requested",
      "identity.password.reset",
      "identity.password.changed",
      "identity.key.created",
      "identity.key.revoked",
    ],
  },
} as const;
