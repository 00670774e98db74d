// Local development state for `npm start`: secrets in .dev.vars, and the demo
// tenant whose admin key is kept under .wrangler/state (both git-ignored).
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { newSigningKeySet } from "../jwt-keys.mjs";
import { root } from "./env.mjs";
import { fetchWithin, within } from "./fetch-within.mjs";

const devVarsPath = join(root, ".dev.vars");
const demoPath = join(root, ".wrangler", "state", "plinth-demo.json");

/** Parses KEY=VALUE lines (values optionally single- or double-quoted). */
function parseDotenv(text) {
  const vars = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if (/^'.*'$|^".*"$/.test(value)) value = value.slice(1, -1);
    vars[m[1]] = value;
  }
  return vars;
}

/** The variables of .dev.vars, or none when there is no such file. */
export function readDevVars() {
  return existsSync(devVarsPath) ? parseDotenv(readFileSync(devVarsPath, "utf8")) : {};
}

/**
 * A secret file `npm start` cannot read or cannot make its owner's alone, most often one another
 * user owns (made by `sudo npm start`, or in a checkout shared between users): its message is
 * the one line saying what is wrong and what to do, which `npm start` prints instead of a stack.
 */
export class SecretFileError extends Error {}

/** The file calls the secret files go through; a test hands in its own (chmod as root never fails). */
const nodeFiles = { chmodSync, readFileSync, writeFileSync };

/** The one line for `what` (a read, a chmod, a write) of the secret file at `path` refused with `error`. */
function refused(path, what, error) {
  return new SecretFileError(
    `${what} ${path} failed (${error.code}): is it another user's (made by sudo)? Run \`sudo chown $USER ${path}\` and \`chmod 600 ${path}\`, then npm start again`,
  );
}

/** True for the errors a file another user owns answers with. */
const notOurs = (error) => error?.code === "EPERM" || error?.code === "EACCES";

/** The text of the secret file at `path`; a SecretFileError when it is another user's to read. */
function readSecretFile(path, files) {
  try {
    return files.readFileSync(path, "utf8");
  } catch (error) {
    throw notOurs(error) ? refused(path, "reading", error) : error;
  }
}

/**
 * Makes the file at `path` readable and writable by its owner alone. One that already is (0600 or
 * stricter) is left as it is, so a file another user owns but keeps to itself never meets a chmod
 * it would refuse; one others may read that this user cannot chmod is a SecretFileError.
 */
function keepOwnerOnly(path, files) {
  if ((statSync(path).mode & 0o077) === 0) return;
  try {
    files.chmodSync(path, 0o600);
  } catch (error) {
    throw notOurs(error) ? refused(path, "chmod 600", error) : error;
  }
}

/**
 * Writes `text` to `path`, readable and writable by its owner alone. `mode` applies only to a
 * file the write creates: one that was there keeps its mode, and a .dev.vars copied from
 * .dev.vars.example (0644 under the usual umask) kept it with the keys added to it.
 */
function writeSecretFile(path, text, files) {
  // Before the write, so the secrets are never in a file others may read, even for a moment.
  if (existsSync(path)) keepOwnerOnly(path, files);
  try {
    files.writeFileSync(path, text, { mode: 0o600 });
  } catch (error) {
    throw notOurs(error) ? refused(path, "writing", error) : error;
  }
}

/**
 * Makes sure .dev.vars holds a root key and JWT signing keys, writing fresh
 * ones for whatever is missing. Returns the variables.
 */
export function ensureDevVars(path = devVarsPath, files = nodeFiles) {
  const text = existsSync(path) ? readSecretFile(path, files) : "";
  const vars = parseDotenv(text);
  const added = [];
  if (!vars.PLATFORM_ROOT_KEY) {
    vars.PLATFORM_ROOT_KEY = randomBytes(32).toString("base64url");
    added.push(`PLATFORM_ROOT_KEY=${vars.PLATFORM_ROOT_KEY}`);
  }
  if (!vars.JWT_SIGNING_KEYS) {
    vars.JWT_SIGNING_KEYS = newSigningKeySet();
    added.push(`JWT_SIGNING_KEYS='${vars.JWT_SIGNING_KEYS}'`);
  }
  if (!vars.ENCRYPTION_KEYS) {
    vars.ENCRYPTION_KEYS = JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]);
    added.push(`ENCRYPTION_KEYS='${vars.ENCRYPTION_KEYS}'`);
  }
  if (added.length > 0) {
    const header = text === "" ? "# Local secrets for wrangler dev, written by npm start. Never commit.\n" : "";
    writeSecretFile(path, `${header}${text}${text && !text.endsWith("\n") ? "\n" : ""}${added.join("\n")}\n`, files);
    console.log(`plinth: wrote ${added.map((a) => a.split("=")[0]).join(", ")} to .dev.vars`);
  } else if (text !== "") {
    // Nothing to add, but its keys may have been written before the file was made the owner's.
    keepOwnerOnly(path, files);
  }
  return vars;
}

/**
 * How long each setup call to the local Worker may take, its answer included: it answers in
 * milliseconds, and a hung workerd held `npm start` before its banner for ever.
 */
export const SETUP_TIMEOUT = "30s";

async function callWorker(origin, path, { token, method = "GET", body, timeout = SETUP_TIMEOUT } = {}) {
  const init = {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  };
  const res = await fetchWithin(`${origin}${path}`, init, within(timeout));
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** The tenant whose slug is `slug`, paging through the platform's list; null when none. */
async function tenantBySlug(call, rootKey, slug) {
  let cursor = "";
  for (;;) {
    const page = await call(`/api/v1/platform/tenants?limit=100${cursor ? `&cursor=${cursor}` : ""}`, {
      token: rootKey,
    });
    if (page.status !== 200) return null;
    const found = page.body.items.find((t) => t.slug === slug);
    if (found) return found;
    if (!page.body.next_cursor) return null;
    cursor = encodeURIComponent(page.body.next_cursor);
  }
}

/**
 * Makes sure the `demo` tenant exists and returns its admin key: the saved
 * one when it still works, else a newly created tenant's. When the tenant
 * exists but the saved key is gone or no longer works (revoked, or the file
 * deleted), the platform mints it a new admin key (the recovery route,
 * docs/identity.md), so nothing local has to be thrown away.
 */
export async function ensureDemoTenant(
  origin,
  rootKey,
  path = demoPath,
  { timeout = SETUP_TIMEOUT, files = nodeFiles } = {},
) {
  const call = (where, options = {}) => callWorker(origin, where, { ...options, timeout });
  if (existsSync(path)) {
    const saved = JSON.parse(readSecretFile(path, files));
    const me = await call("/api/v1/me", { token: saved.admin_key });
    // Only a refusal of the key (401: revoked, or another plinth's) calls for a new one; an
    // error answer says nothing of it, and minting then would leave unrevoked keys behind.
    if (me.status !== 401) {
      // Kept as saved, perhaps before the file was made the owner's: its mode is.
      keepOwnerOnly(path, files);
      return saved;
    }
  }
  const created = await call("/api/v1/platform/tenants", {
    token: rootKey,
    method: "POST",
    body: { slug: "demo", name: "Demo tenant", plan: "free" },
  });
  let demo;
  if (created.status === 201) {
    demo = { tenant_id: created.body.id, slug: created.body.slug, admin_key: created.body.admin_key };
  } else if (created.status === 409) {
    const tenant = await tenantBySlug(call, rootKey, "demo");
    const minted = tenant
      ? await call(`/api/v1/platform/tenants/${tenant.id}/admin-keys`, {
          token: rootKey,
          method: "POST",
          body: { name: "demo (npm start)" },
        })
      : { status: 404 };
    if (minted.status !== 201) {
      return { error: `the demo tenant exists but a new admin key for it answered ${minted.status}` };
    }
    demo = { tenant_id: tenant.id, slug: tenant.slug, admin_key: minted.body.key };
  } else {
    return { error: `creating the demo tenant answered ${created.status}` };
  }
  mkdirSync(dirname(path), { recursive: true });
  writeSecretFile(path, `${JSON.stringify(demo, null, 2)}\n`, files);
  return demo;
}
