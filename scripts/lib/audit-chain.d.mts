export interface ExportEntry {
  seq: number;
  at: string;
  actor: { kind: string; id: string | null };
  action: string;
  target: string | null;
  request_id: string | null;
  ip_hash: string | null;
  prev_hash: string;
  hash: string;
}
export interface ExportCheckpoint {
  seq: number;
  hash: string;
  signed_at: string;
  kid: string;
  signature: string;
}
export interface ParsedExport {
  entries: unknown[];
  checkpoint: ExportCheckpoint | null;
  tenantId: string | null;
}
export interface ExportVerification {
  ok: boolean;
  entries: number;
  last_seq: number;
  last_hash: string;
  broken_seq?: number;
  signature: "valid" | "invalid" | "unchecked" | "none";
}
export const GENESIS_HASH: string;
export function entryHash(entry: Omit<ExportEntry, "hash"> & { hash?: string }): string;
export function parseExport(text: string): ParsedExport;
export function verifyExport(parsed: ParsedExport, keys?: Map<string, CryptoKey> | null): Promise<ExportVerification>;
export function importJwks(jwks: unknown): Promise<Map<string, CryptoKey>>;
