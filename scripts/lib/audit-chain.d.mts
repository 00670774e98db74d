import type { AuditCheckpoint, AuditEntry } from "../../src/modules/audit/chain";

/** An entry of an export: the Worker's audit entry. */
export type ExportEntry = AuditEntry;
/** The checkpoint line of an export. */
export type ExportCheckpoint = AuditCheckpoint;
export interface ParsedExport {
  entries: unknown[];
  checkpoint: ExportCheckpoint | null;
  tenantId: string | null;
  /** Checkpoint lines in the file (an export has one; an empty log's, from before seq 0 was signed, none); 1 when left out with a checkpoint. */
  checkpoints?: number;
}
export interface ExportVerification {
  ok: boolean;
  entries: number;
  last_seq: number;
  last_hash: string;
  broken_seq?: number;
  /**
   * Why a chain that recomputes cleanly still fails: nothing in the file (no entry, no
   * checkpoint, not even an empty log's at seq 0: it proves nothing), no closing checkpoint, a checkpoint line with no checkpoint
   * in it, lines past it, a second checkpoint line, or entries the checkpoint covers missing
   * from the file's end; with keys, the checkpoint's signature failing, or signed by a kid no key has.
   */
  problem?:
    | "empty_export"
    | "no_checkpoint"
    | "malformed_checkpoint"
    | "after_checkpoint"
    | "extra_checkpoint"
    | "missing_entries"
    | "signature_invalid"
    | "unknown_kid";
  /** With `missing_entries`: the last seq the checkpoint covers. */
  covered_seq?: number;
  signature: "valid" | "invalid" | "unchecked" | "none";
}
export const GENESIS_HASH: string;
/** What a version 2 checkpoint's message starts with. */
export const CHECKPOINT_V2_PREFIX: string;
/** The UTF-8 string a checkpoint signs, by its version (src/modules/audit/chain.ts). */
export function checkpointMessage(
  tenantId: string,
  cp: Pick<ExportCheckpoint, "v" | "seq" | "hash" | "signed_at">,
): string;
/** Whether the checkpoint's signature covers its signed_at (version 2). */
export function signsItsTime(cp: unknown): boolean;
export function entryHash(entry: Omit<ExportEntry, "hash"> & { hash?: string }): string;
export function parseExport(text: string): ParsedExport;
export function verifyExport(parsed: ParsedExport, keys?: Map<string, CryptoKey> | null): Promise<ExportVerification>;
export function importJwks(jwks: unknown): Promise<Map<string, CryptoKey>>;
