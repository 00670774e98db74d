import { sealedVersion } from "./envelope";

/**
 * What retiring an `ENCRYPTION_KEYS` version needs to know: how many stored
 * ciphertexts each master key version still seals, per kind of field. Pure
 * functions over the values a module's single writers report; no key is
 * needed, since a ciphertext names its version in its `v<version>.` prefix.
 */

/** One sealed value as its owner stores it: the kind of field it is, and the ciphertext. */
export interface SealedValue {
  /** The field kind the report counts it under, e.g. `webhooks.secret` (not the per-row field name). */
  kind: string;
  sealed: string;
}

/** Counts by field kind, then by key version (`"1"`, `"2"` …; `"unknown"` for a value that is not a ciphertext). */
export type VersionCounts = Record<string, Record<string, number>>;

/** The version key a value counts under. */
const versionKey = (sealed: string) => String(sealedVersion(sealed) ?? "unknown");

/** Counts `values` by kind and version; `kinds` appear even when none of their values exist. */
export function countVersions(values: readonly SealedValue[], kinds: readonly string[] = []): VersionCounts {
  const counts: VersionCounts = {};
  for (const kind of kinds) counts[kind] = {};
  for (const { kind, sealed } of values) {
    const byVersion = counts[kind] ?? {};
    const version = versionKey(sealed);
    byVersion[version] = (byVersion[version] ?? 0) + 1;
    counts[kind] = byVersion;
  }
  return counts;
}

/** The sum of several counts (tenants, modules). */
export function addCounts(...all: readonly VersionCounts[]): VersionCounts {
  const sum: VersionCounts = {};
  for (const counts of all) {
    for (const [kind, byVersion] of Object.entries(counts)) {
      const into = sum[kind] ?? {};
      for (const [version, n] of Object.entries(byVersion)) into[version] = (into[version] ?? 0) + n;
      sum[kind] = into;
    }
  }
  return sum;
}

/**
 * `counts` with every version in `versions` present (0 where none is sealed), so a
 * version's being done shows as a 0 rather than as a missing entry.
 */
export function withVersions(counts: VersionCounts, versions: readonly number[]): VersionCounts {
  const filled: VersionCounts = {};
  for (const [kind, byVersion] of Object.entries(counts)) {
    filled[kind] = { ...Object.fromEntries(versions.map((v) => [String(v), 0])), ...byVersion };
  }
  return filled;
}

/** What re-sealing one tenant's values did. */
export interface ResealOutcome {
  /** Values found under an older version and replaced by their writer with a re-sealed one. */
  resealed: number;
  /**
   * Values that changed between being read and being replaced (a rotation, a new
   * enrolment): left as their writer now holds them, which a re-run looks at again.
   */
  raced: number;
}

export const NO_RESEAL: ResealOutcome = { resealed: 0, raced: 0 };

/** The sum of several outcomes. */
export const addOutcomes = (...all: readonly ResealOutcome[]): ResealOutcome =>
  all.reduce((a, b) => ({ resealed: a.resealed + b.resealed, raced: a.raced + b.raced }), NO_RESEAL);

/** One value to replace at its writer: the ciphertext read, and the one re-sealed from it. */
export interface Reseal {
  from: string;
  to: string;
}
