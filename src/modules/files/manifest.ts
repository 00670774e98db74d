/** The `files` module: tenants' files on R2. Read by `npm run generate`: imports nothing. */
export const manifest = {
  name: "files",
  version: "1.0.0",
  base_path: "",
  description: "Files on R2: streamed uploads with SHA-256, ranged downloads, signed URLs, a per-tenant quota.",
  depends_on: { identity: "^1.0.0", tenants: "^1.0.0" },
  permissions: ["files.file.read", "files.file.write", "files.file.delete"],
  // A webhook following files (names, sizes, the quota) needs what reads them through the API.
  event_read: { "files.*": "files.file.read" },
} as const;
