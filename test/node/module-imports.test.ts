// A module reaching into another module's internals ties the two together out of sight: the
// webhooks module read the tenants module's store (its subscriber, for a tenant's name, and its
// platform routes, to find a live tenant) where the kernel's tenant lookup answers both
// (`findTenant(runtime, id)`, `tenantLookup.find`). The imports across modules that stand are
// listed here, each with why; a new one fails this test until it is looked at.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const modulesDir = join(root, "src", "modules");

/** `<importing module> -> <module>/<path>`, and why it stands. */
const ALLOWED: Record<string, string> = {
  // Files and webhooks import nothing of identity: the request's origin for their objects is the
  // kernel's (originOf, kernel/events/origin), and sealing is the kernel's tenantEnvelopeOf over
  // the seeds identity provides (ModuleDef.auth.tenant_seeds).
  // Tenants provisions and offboards identity's per-tenant directory: it is identity's other half.
  "tenants -> identity/authenticators": "forgetTenantPrincipals: applied grants drop cached principals",
  "tenants -> identity/directory/contract": "provisioning and lifecycle: the directory's contract client",
  "tenants -> identity/directory/tenant-state": "TenantChange, TenantState: the lifecycle the directory keeps",
  "tenants -> identity/directory/types": "KeyView: the admin key in the create answer",
  "tenants -> identity/key-index": "keyIndex: provisioning and purging the API key index",
  "tenants -> identity/schemas": "KeySchema, keyPath: the admin key in the create answer",
  "tenants -> identity/services": "newApiKey: the tenant's first admin key",
  "tenants -> identity/settings": "forgetSettings: a rate-limit override changed takes effect at once",
};

/**
 * A module's `domain.ts` is its public declaration of the events it publishes (its decider's
 * `eventSchema`, pure: zod and kernel helpers only), which a subscriber in another module parses
 * each envelope with: docs/modules.md, "A projection of another module's events". Importing it
 * needs no listing; before, the guide's own example (a projection of the blog's events
 * importing ../blog/domain) failed this test in the team's npm test. A module without a decider
 * declares its events in `events.ts` (identity's, files', webhooks': zod only), public the same
 * way: a product module forgetting a deleted user parses `identity.user.deleted` with identity's
 * `IdentityEventSchema` (docs/modules.md, "Forgetting a deleted user"), which failed here before.
 */
const PUBLIC = /^[^/]+\/(domain|events)$/;

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/**
 * Every import of a module's file that lands in another module, as `<module> -> <module>/<path>`,
 * but a module's public `domain` or `events` (PUBLIC).
 */
function crossImports(dir = modulesDir): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sources(dir)) {
    const owner = relative(dir, file).split("/")[0] ?? "";
    if (owner.endsWith(".ts")) continue; // src/modules/index.ts registers them all
    for (const [, spec] of readFileSync(file, "utf8").matchAll(/from "(\.[^"]+)"/g)) {
      const target = relative(dir, normalize(join(dirname(file), spec ?? "")));
      const [module, ...rest] = target.split("/");
      if (target.startsWith("..") || module === owner || rest.length === 0 || PUBLIC.test(target)) continue;
      const key = `${owner} -> ${module}/${rest.join("/")}`;
      found.set(key, [...(found.get(key) ?? []), relative(root, file)]);
    }
  }
  return found;
}

describe("imports across modules", () => {
  it("are only those listed, each with why", () => {
    const unlisted = [...crossImports()].filter(([key]) => !Object.hasOwn(ALLOWED, key));
    expect(unlisted.map(([key, files]) => `${key} (${files.join(", ")})`)).toEqual([]);
  });

  it("let a module parse another's events with its domain.ts or events.ts, and nothing else of it unlisted", () => {
    const dir = mkdtempSync(join(tmpdir(), "plinth-imports-"));
    try {
      for (const [file, text] of Object.entries({
        "invoices/domain.ts": "export const InvoiceEventSchema = 1;\n",
        "invoices/read-model.ts": "export const invoicesInvoices = 1;\n",
        "receivables/read-model.ts": 'import { InvoiceEventSchema } from "../invoices/domain";\n',
        "receivables/routes.ts": 'import { invoicesInvoices } from "../invoices/read-model";\n',
        // A module without a decider declares its events in events.ts (identity's, files', webhooks'):
        // a module forgetting a deleted user parses identity.user.deleted with IdentityEventSchema.
        "directory/events.ts": "export const DirectoryEventSchema = 1;\n",
        "receivables/user-erasure.ts": 'import { DirectoryEventSchema } from "../directory/events";\n',
      })) {
        mkdirSync(join(dir, dirname(file)), { recursive: true });
        writeFileSync(join(dir, file), text);
      }
      expect([...crossImports(dir).keys()]).toEqual(["receivables -> invoices/read-model"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lists none that no longer happens, so the list stays the truth", () => {
    const found = crossImports();
    expect(Object.keys(ALLOWED).filter((key) => !found.has(key))).toEqual([]);
  });
});
