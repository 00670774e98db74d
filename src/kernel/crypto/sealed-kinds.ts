import type { ModuleDef } from "../modules/types";

/**
 * The kinds of field an envelope may seal. A sealed value's field is `<kind>/<record id>` (or
 * the kind alone, for a value a tenant holds once): `webhooks.secret/<endpoint id>`. Its kind
 * must be one the platform declares, so that `plinth crypto versions` and `reencrypt` reach
 * every value it has stored (a module's `ModuleDef.sealed.kinds`), or one it never stores
 * (`sealed.transient`); the kernel's mail envelope declares its own (`mail`). The envelope
 * refuses to seal any other kind, before it derives a key or creates a tenant's seed, so an
 * undeclared value is never written. A value that fails to open is counted under its declared
 * kind, or `undeclared`: a label from a fixed list, never the field's own text, which would
 * make a series per record on /metrics.
 */

/** The label a value of no declared kind counts under (`plinth_unseal_failures_total{kind}`, /readyz). */
export const UNDECLARED_KIND = "undeclared";

/** The kind of a sealed field, its name without the holder's id: `webhooks.secret/<endpoint>` → `webhooks.secret`. */
export const sealedKind = (field: string): string => field.split("/", 1)[0] ?? field;

/**
 * Thrown by `Envelope.encrypt` for a field whose kind the platform does not declare: a module's
 * bug (the route answers 500 `internal`, and the edge logs this message). Nothing was sealed,
 * and no key material was created.
 */
export class UndeclaredSealedKind extends Error {
  override name = "UndeclaredSealedKind";
  constructor(readonly kind: string) {
    super(
      `sealed field kind "${kind}" is not declared: a field is "<kind>/<record id>", and its kind must be listed in the sealing module's ModuleDef.sealed, as "<module>.<field>": in kinds when the value is stored (plinth crypto then counts and re-seals it), in transient when it never is (docs/modules.md, "Sealing a field with the tenant envelope")`,
    );
  }
}

/** A fixed set of declared kinds: what an envelope may seal, and the labels its failures count under. */
export class SealedKinds {
  private readonly kinds: ReadonlySet<string>;

  constructor(kinds: Iterable<string>) {
    this.kinds = new Set(kinds);
  }

  /** `field`'s kind when it is declared, else `undeclared`: a bounded label for metrics and /readyz. */
  label(field: string): string {
    const kind = sealedKind(field);
    return this.kinds.has(kind) ? kind : UNDECLARED_KIND;
  }

  /** Throws `UndeclaredSealedKind` unless `field`'s kind is declared. */
  check(field: string): void {
    const kind = sealedKind(field);
    if (!this.kinds.has(kind)) throw new UndeclaredSealedKind(kind);
  }
}

/** Every kind the modules declare: each one's `sealed.kinds` and `sealed.transient`. */
export const declaredSealedKinds = (modules: readonly ModuleDef[]): SealedKinds =>
  new SealedKinds(modules.flatMap((m) => [...(m.sealed?.kinds ?? []), ...(m.sealed?.transient ?? [])]));
