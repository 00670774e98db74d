// The authority policy, swept over every caller x action x target, against an
// oracle written differently: "holds" as set containment over a universe of
// permissions that includes ones modules will declare later (so `*.read` is
// more than today's read permissions, and `*` more than every pattern).
import { describe, expect, it } from "vitest";
import { ALL_PERMISSIONS } from "../../src/generated/permissions";
import { grants } from "../../src/kernel/auth/permissions";
import type { KeyCap } from "../../src/modules/identity/key-reach";
import {
  type AuthorityAction,
  authorize,
  boundedExpiry,
  type Caller,
  describeRefusal,
  OWNER,
  type Refusal,
  type RoleFacts,
  type UserFacts,
} from "../../src/modules/identity/policy";

const LATER = ["blog.comment.read", "blog.comment.moderate", "zeta.thing.read", "zeta.thing.frobnicate"];
const UNIVERSE = [...ALL_PERMISSIONS, ...LATER];
const ext = (patterns: readonly string[]) => new Set(UNIVERSE.filter((p) => grants(patterns, p)));
const subset = (a: Set<string>, b: Set<string>) => [...a].every((x) => b.has(x));

const EXP = "2030-01-01T00:00:00.000Z";
const user = (id: string, roles: string[], grantsOf: string[]): Caller => ({
  kind: "user",
  id,
  roles,
  grants: grantsOf,
});
const key = (id: string, scopes: string[], expiresAt: string | null = null, caps: KeyCap[] = []): Caller => ({
  kind: "api_key",
  id,
  scopes,
  caps,
  expiresAt,
});
/** What a user with these roles' grants puts on the keys they created (key-reach.ts). */
const capOf = (roles: string[], grantsOf: string[]): KeyCap => ({ grants: grantsOf, owner: roles.includes(OWNER) });

const CALLERS: Record<string, Caller> = {
  platform: { kind: "platform" },
  nobody: { kind: "nobody" },
  owner: user("u-owner", [OWNER], ["*"]),
  "owner+member": user("u-owner2", [OWNER, "member"], ["*", "blog.post.create", "blog.post.read"]),
  admin: user("u-admin", ["admin"], ["*"]),
  member: user("u-member", ["member"], ["blog.post.create", "blog.post.read"]),
  viewer: user("u-viewer", ["viewer"], ["*.read"]),
  roleless: user("u-none", [], []),
  "key *": key("k-all", ["*"]),
  "key admin.keys.*": key("k-keys", ["admin.keys.read", "admin.keys.write"]),
  "key admin.roles.*": key("k-roles", ["admin.roles.read", "admin.roles.write"]),
  "key identity.user.delete": key("k-del", ["identity.user.delete"]),
  "key blog.*": key("k-blog", ["blog.*"]),
  "key *.read": key("k-read", ["*.read"]),
  "key expiring": key("k-exp", ["admin.keys.write", "blog.post.read"], EXP),
  // Keys whose creator chain holds less now than when they were made: each holds only what both do.
  "key * by an owner": key("k-all-owner", ["*"], null, [capOf([OWNER], ["*"])]),
  "key * by a demoted owner": key("k-all-admin", ["*"], null, [capOf(["admin"], ["*"])]),
  "key * by a viewer": key("k-all-viewer", ["*"], null, [capOf(["viewer"], ["*.read"])]),
  "key blog.* by a viewer": key("k-blog-viewer", ["blog.*"], null, [capOf(["viewer"], ["*.read"])]),
  "key admin.keys.* by a member": key("k-keys-member", ["admin.keys.read", "admin.keys.write"], null, [
    capOf(["member"], ["blog.post.create", "blog.post.read"]),
  ]),
  "key *.read minted by a blog.* key": key("k-read-blog", ["*.read"], null, [
    { grants: ["blog.*"], owner: false },
    capOf([OWNER], ["*"]),
  ]),
  "key * by a deleted user": key("k-all-gone", ["*"], null, [{ grants: [], owner: false }]),
};

const ROLES: RoleFacts[] = [
  { name: OWNER, permissions: ["*"] },
  { name: "admin", permissions: ["*"] },
  { name: "member", permissions: ["blog.post.create", "blog.post.read"] },
  { name: "viewer", permissions: ["*.read"] },
  { name: "editor", permissions: ["blog.post.read", "blog.post.update"] },
  { name: "blogger", permissions: ["blog.*"] },
];
const roleNamed = (name: string) => ROLES.find((r) => r.name === name) as RoleFacts;
const target = (id: string, roles: string[]): UserFacts => ({
  id,
  roles,
  grants: [...new Set(roles.flatMap((r) => roleNamed(r).permissions))],
});
const TARGETS: UserFacts[] = [
  target("t-owner", [OWNER]),
  target("t-admin", ["admin"]),
  target("t-member", ["member"]),
  target("t-viewer", ["viewer"]),
  target("t-none", []),
];
/** Users that are callers too (CALLERS), so the sweep sees each acting on their own account. */
const SELVES: UserFacts[] = [target("u-owner", [OWNER]), target("u-member", ["member"]), target("u-none", [])];
/** Owner bindings the tenant has besides, or not: alone, or with another owner. */
const OWNER_SETS = (u: UserFacts) =>
  u.roles.includes(OWNER) ? [[u.id], [u.id, "t-other-owner"]] : [["t-other-owner"]];
const PERMISSION_SETS = [["*"], ["*.read"], ["blog.*"], ["blog.post.read"], ["admin.keys.write"], []];

function actions(): AuthorityAction[] {
  const out: AuthorityAction[] = [];
  for (const scopes of [["blog.post.read"], ["admin.keys.write"], ["identity.user.delete", "blog.post.read"], ["*"]])
    for (const expiresAt of [null, "2029-01-01T00:00:00.000Z", "2031-01-01T00:00:00.000Z"])
      out.push({ type: "key.create", scopes, expiresAt });
  for (const scopes of [["*"], ["admin.keys.read", "admin.keys.write"], ["blog.post.read"], ["*.read"]])
    out.push({ type: "key.revoke", key: { id: "k-target", scopes } });
  for (const permissions of PERMISSION_SETS) out.push({ type: "role.create", permissions });
  for (const role of ROLES) {
    out.push({ type: "role.delete", role });
    for (const permissions of PERMISSION_SETS) out.push({ type: "role.rewrite", role, permissions });
    for (const u of TARGETS) {
      out.push({ type: "role.grant", role, user: u });
      for (const owners of OWNER_SETS(u)) out.push({ type: "role.revoke", role, user: u, owners });
    }
  }
  // Deleting, unlinking SSO and resetting two-factor: every target and each user caller's own account;
  // a deletion by an administrator's route or with the account proven the caller's (DELETE /me).
  for (const u of [...TARGETS, ...SELVES])
    for (const owners of OWNER_SETS(u))
      for (const proven of [false, true]) out.push({ type: "user.delete", user: u, owners, proven });
  // Suspending and reactivating: every target and each user caller's own account; owners as for deleting.
  for (const u of [...TARGETS, ...SELVES]) {
    for (const owners of OWNER_SETS(u)) out.push({ type: "user.suspend", user: u, owners });
    out.push({ type: "user.reactivate", user: u });
  }
  for (const a of ROLES) {
    out.push({ type: "invitation.create", roles: [a] });
    for (const b of ROLES) out.push({ type: "invitation.create", roles: [a, b] });
  }
  // Renaming, signing out, unlinking SSO, resetting two-factor: every target, and each user caller acting on themself.
  for (const u of [...TARGETS, ...SELVES])
    out.push(
      { type: "user.update", user: u },
      { type: "user.sessions.revoke", user: u },
      { type: "user.sso.unlink", user: u },
      { type: "two_factor.reset", user: u },
    );
  // An administrator's password reset: also by a key the user created (any caller kind may hold one).
  for (const u of [...TARGETS, ...SELVES])
    for (const creatorsKey of [false, true]) out.push({ type: "user.password_reset", user: u, creatorsKey });
  // An administrator's copy of a user's data: every target, and each user caller's own.
  for (const u of [...TARGETS, ...SELVES]) out.push({ type: "user.export", user: u });
  out.push({ type: "mail_links.change" });
  out.push({ type: "sso_trust.change" });
  return out;
}

// The oracle: the sentence, computed on sets.
function isOwnerOracle(c: Caller): boolean {
  return (
    c.kind === "platform" ||
    (c.kind === "user" && c.roles.includes(OWNER)) ||
    (c.kind === "api_key" && c.scopes.includes("*") && c.caps.every((cap) => cap.owner))
  );
}
function heldOracle(c: Caller, p: string): boolean {
  if (p === "*") return isOwnerOracle(c);
  const mine = c.kind === "platform" ? ["*"] : c.kind === "user" ? c.grants : c.kind === "api_key" ? c.scopes : [];
  // A key's permissions are those its scopes and every cap of its creator chain have in common.
  const caps = c.kind === "api_key" ? c.caps.map((cap) => ext(cap.grants)) : [];
  const held = new Set([...ext(mine)].filter((x) => caps.every((cap) => cap.has(x))));
  return subset(ext([p]), held);
}
function oracle(c: Caller, a: AuthorityAction): Refusal | null {
  const need = (ps: readonly string[]): Refusal | null => {
    const missing = [...new Set(ps.filter((p) => !heldOracle(c, p)))].sort();
    return missing.length ? { rule: "not_held", permissions: missing } : null;
  };
  const ownerGate = (touches: boolean, userId: string, owners: readonly string[] | null): Refusal | null => {
    if (!touches) return null;
    if (!isOwnerOracle(c)) return { rule: "owner_only" };
    if (owners && owners.length === 1 && owners[0] === userId) return { rule: "last_owner" };
    return null;
  };
  // An administrator's action on one's own account goes through the /me route, which asks proof.
  const mine = (
    userId: string,
    action: "user.delete" | "user.sso.unlink" | "two_factor.reset" | "user.password_reset",
  ): Refusal | null => (c.kind === "user" && c.id === userId ? { rule: "own_account", action } : null);
  switch (a.type) {
    case "key.create": {
      const r = need(a.scopes);
      if (r) return r;
      if (c.kind === "api_key" && c.expiresAt && (a.expiresAt === null || a.expiresAt > c.expiresAt))
        return { rule: "outlives_creator", limit: c.expiresAt };
      return null;
    }
    case "key.revoke":
      return need(a.key.scopes);
    case "role.create":
      return need(a.permissions);
    case "role.rewrite":
      return a.role.name === OWNER ? { rule: "owner_fixed" } : need([...a.role.permissions, ...a.permissions]);
    case "role.delete":
      return a.role.name === OWNER ? { rule: "owner_fixed" } : need(a.role.permissions);
    case "role.grant":
      return ownerGate(a.role.name === OWNER, a.user.id, null) ?? need(a.role.permissions);
    case "role.revoke":
      return ownerGate(a.role.name === OWNER, a.user.id, a.owners) ?? need(a.role.permissions);
    case "user.delete":
      return (
        (a.proven ? null : mine(a.user.id, a.type)) ??
        ownerGate(a.user.roles.includes(OWNER), a.user.id, a.owners) ??
        need(a.user.grants)
      );
    case "invitation.create":
      return (
        ownerGate(
          a.roles.some((r) => r.name === OWNER),
          "",
          null,
        ) ?? need(a.roles.flatMap((r) => r.permissions))
      );
    case "user.update":
    // Renaming another user, as signing them out: owner rule, then every permission their roles grant.
    case "user.sessions.revoke":
      if (c.kind === "user" && c.id === a.user.id) return null;
      return ownerGate(a.user.roles.includes(OWNER), a.user.id, null) ?? need(a.user.grants);
    case "user.sso.unlink":
    case "two_factor.reset":
      return mine(a.user.id, a.type) ?? ownerGate(a.user.roles.includes(OWNER), a.user.id, null) ?? need(a.user.grants);
    case "user.password_reset":
      // As a two-factor reset, and a key of the user's own making stands for the user.
      return (
        mine(a.user.id, a.type) ??
        (a.creatorsKey ? { rule: "own_account", action: a.type } : null) ??
        ownerGate(a.user.roles.includes(OWNER), a.user.id, null) ??
        need(a.user.grants)
      );
    case "mail_links.change":
    case "sso_trust.change":
      return ownerGate(true, "", null);
    case "user.suspend":
      // Nobody suspends themself; otherwise as deleting (owner only, one owner who can sign in kept).
      if (c.kind === "user" && c.id === a.user.id) return { rule: "own_suspension" };
      return ownerGate(a.user.roles.includes(OWNER), a.user.id, a.owners) ?? need(a.user.grants);
    case "user.reactivate":
      return ownerGate(a.user.roles.includes(OWNER), a.user.id, null) ?? need(a.user.grants);
    case "user.export":
      // A read of everything about them: an owner's only by an owner, nothing else asked of the caller.
      return ownerGate(a.user.roles.includes(OWNER), a.user.id, null);
  }
}

describe("authority policy", () => {
  it("agrees with the oracle on every caller x action x target", () => {
    const all = actions();
    let compared = 0;
    const allowed = new Set<string>();
    const refusedBy = new Set<string>();
    for (const [name, caller] of Object.entries(CALLERS)) {
      for (const action of all) {
        const got = authorize(caller, action);
        expect(got, `${name} ${JSON.stringify(action)}`).toEqual(oracle(caller, action));
        (got ? refusedBy : allowed).add(got ? got.rule : name);
        compared++;
      }
    }
    expect(compared).toBe(Object.keys(CALLERS).length * all.length);
    // The sweep exercises every rule and lets every delegating caller do something.
    expect([...refusedBy].sort()).toEqual([
      "last_owner",
      "not_held",
      "outlives_creator",
      "own_account",
      "own_suspension",
      "owner_fixed",
      "owner_only",
    ]);
    expect(allowed.has("admin") && allowed.has("key admin.roles.*") && allowed.has("platform")).toBe(true);
  });

  // The holes found by the attack on the previous rules, one row each.
  const holes: [string, Caller, AuthorityAction, Refusal["rule"]][] = [
    [
      "an admin deletes the owner",
      CALLERS.admin as Caller,
      { type: "user.delete", user: target("t-owner", [OWNER]), owners: ["t-owner", "x"], proven: false },
      "owner_only",
    ],
    [
      "a user.delete key deletes the owner",
      CALLERS["key identity.user.delete"] as Caller,
      { type: "user.delete", user: target("t-owner", [OWNER]), owners: ["t-owner", "x"], proven: false },
      "owner_only",
    ],
    [
      "a keys key revokes the * key",
      CALLERS["key admin.keys.*"] as Caller,
      { type: "key.revoke", key: { id: "k-all", scopes: ["*"] } },
      "not_held",
    ],
    [
      "a roles key rewrites admin",
      CALLERS["key admin.roles.*"] as Caller,
      { type: "role.rewrite", role: roleNamed("admin"), permissions: ["blog.post.read"] },
      "not_held",
    ],
    [
      "a roles key revokes viewer it does not hold",
      CALLERS["key admin.roles.*"] as Caller,
      { type: "role.revoke", role: roleNamed("viewer"), user: target("t-viewer", ["viewer"]), owners: ["x"] },
      "not_held",
    ],
    [
      "an admin grants admin",
      CALLERS.admin as Caller,
      { type: "role.grant", role: roleNamed("admin"), user: target("t-none", []) },
      "not_held",
    ],
    [
      "an admin signs the owner out",
      CALLERS.admin as Caller,
      { type: "user.sessions.revoke", user: target("t-owner", [OWNER]) },
      "owner_only",
    ],
    [
      "a viewer signs a member out",
      CALLERS.viewer as Caller,
      { type: "user.sessions.revoke", user: target("t-member", ["member"]) },
      "not_held",
    ],
    [
      "an admin chooses the SSO provider (it would assert an owner's email)",
      CALLERS.admin as Caller,
      { type: "sso_trust.change" },
      "owner_only",
    ],
    [
      "the last owner deletes themself",
      CALLERS.owner as Caller,
      { type: "user.delete", user: target("u-owner", [OWNER]), owners: ["u-owner"], proven: true },
      "last_owner",
    ],
    [
      "an admin takes a copy of everything about an owner",
      CALLERS.admin as Caller,
      { type: "user.export", user: target("t-owner", [OWNER]) },
      "owner_only",
    ],
  ];
  it.each(holes)("refuses: %s", (_name, caller, action, rule) => {
    expect(authorize(caller, action)?.rule).toBe(rule);
  });

  it("an admin still manages everything below `*`: viewer, member and custom roles, member users", () => {
    const admin = CALLERS.admin as Caller;
    expect(authorize(admin, { type: "role.grant", role: roleNamed("viewer"), user: target("t-none", []) })).toBeNull();
    expect(authorize(admin, { type: "role.create", permissions: ["*.read", "blog.*"] })).toBeNull();
    expect(
      authorize(admin, { type: "user.delete", user: target("t-member", ["member"]), owners: ["o"], proven: false }),
    ).toBeNull();
    expect(authorize(admin, { type: "user.sessions.revoke", user: target("t-member", ["member"]) })).toBeNull();
    // A read takes nothing from anyone: an admin exports another admin, whose `*` only an owner "holds".
    expect(authorize(admin, { type: "user.export", user: target("t-admin", ["admin"]) })).toBeNull();
  });

  it("anyone signs themself out, even the last owner and a user with no roles", () => {
    expect(
      authorize(CALLERS.owner as Caller, { type: "user.sessions.revoke", user: target("u-owner", [OWNER]) }),
    ).toBeNull();
    expect(
      authorize(CALLERS.roleless as Caller, { type: "user.sessions.revoke", user: target("u-none", []) }),
    ).toBeNull();
  });

  it("refuses an administrator's action on the caller's own account, naming the /me route that asks proof", () => {
    const owner = CALLERS.owner as Caller;
    const self = target("u-owner", [OWNER]);
    const own: [AuthorityAction, string][] = [
      [
        { type: "user.delete", user: self, owners: ["u-owner", "x"], proven: false },
        "delete your own account with DELETE /api/v1/me, which asks your password (and a code)",
      ],
      [
        { type: "user.sso.unlink", user: self },
        "unlink your own identity with DELETE /api/v1/me/sso, which asks your password (and a code)",
      ],
      [
        { type: "two_factor.reset", user: self },
        "turn your own two-factor off with DELETE /api/v1/me/two-factor, which asks a code",
      ],
      [
        { type: "user.password_reset", user: self, creatorsKey: false },
        "change your own password with POST /api/v1/auth/change-password, which asks your current one, or ask a reset link with POST /api/v1/auth/password-reset; a key you (or a key of yours) created acts as you, and cannot ask it for you either",
      ],
    ];
    for (const [action, detail] of own) {
      const refusal = authorize(owner, action);
      expect(refusal?.rule, action.type).toBe("own_account");
      expect(refusal && describeRefusal(refusal)).toBe(detail);
    }
    // DELETE /me proved the account is the caller's: only the other rules decide (the last owner).
    expect(authorize(owner, { type: "user.delete", user: self, owners: ["u-owner", "x"], proven: true })).toBeNull();
    expect(authorize(owner, { type: "user.delete", user: self, owners: ["u-owner"], proven: true })?.rule).toBe(
      "last_owner",
    );
    // The owner's key acting on the owner is not the caller's own account; neither is another user.
    expect(authorize(CALLERS["key *"] as Caller, { type: "two_factor.reset", user: self })).toBeNull();
    expect(authorize(owner, { type: "user.sso.unlink", user: target("t-member", ["member"]) })).toBeNull();
  });

  it("bounds a key's expiry by the key creating it", () => {
    const expiring = CALLERS["key expiring"] as Caller;
    expect(boundedExpiry(expiring, null)).toBe(EXP);
    expect(boundedExpiry(expiring, "2029-01-01T00:00:00.000Z")).toBe("2029-01-01T00:00:00.000Z");
    expect(boundedExpiry(CALLERS.owner as Caller, null)).toBeNull();
  });
});
