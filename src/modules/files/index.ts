import type { ModuleDef } from "../../kernel/modules/types";
import { filesErasure } from "./erasure";
import { fileErrors } from "./errors";
import { FileEventSchema } from "./events";
import { manifest } from "./manifest";
import { filesPersonalData } from "./personal-data";
import { FILES_VARIABLES } from "./policy";
import { fileProjection } from "./projection";
import { files as filesTable } from "./read-model";
import { fileRoutes } from "./routes";
import { signedUrlTenant } from "./url-tenant";

/**
 * The `files` module factory: files on R2 under each tenant's prefix, their
 * metadata and quota written by one FileStore actor per tenant, the D1
 * `files` projection, and signed download URLs. See docs/files.md.
 */
export const files = () =>
  ({
    ...manifest,
    errors: fileErrors,
    tables: { files: filesTable },
    routes: fileRoutes,
    events: { publishes: FileEventSchema, subscribes: [fileProjection] },
    bindings: { FILES: "r2", FILE_STORE: "durable_object" },
    variables: FILES_VARIABLES,
    erasure: filesErasure,
    personal_data: filesPersonalData,
    // A signed URL proves its tenant to a CORS preflight on the main host (docs/files.md, "Signed URLs").
    auth: { url_tenants: [signedUrlTenant] },
  }) satisfies ModuleDef;
