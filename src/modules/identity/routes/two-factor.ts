import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { PERMISSIONS } from "../../../generated/permissions";
import { tokenRefused } from "../../../kernel/auth/challenge";
import { principalOf, tenantOf } from "../../../kernel/auth/guards";
import type { AppEnv } from "../../../kernel/env";
import { AppError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { IdParam, jsonBody, jsonResponse, LOCATION_HEADER } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { enforce, refund } from "../../../kernel/ratelimit/limiter";
import { noticeAccountChange } from "../account-notice";
import { directory } from "../directory/contract";
import { TwoFactorStatusSchema } from "../directory/two-factor";
import { identityError, refused } from "../refusals";
import {
  newRecoveryCodes,
  newTotpSecret,
  otpauthUri,
  ProofSchema,
  proofFor,
  sealTotpSecret,
  TOTP_PARAMS,
  TotpCodeSchema,
} from "../two-factor";

const op = operations(["two-factor"]);

const StatusSchema = TwoFactorStatusSchema.openapi("TwoFactorStatus");

const EnrolmentSchema = z
  .object({
    secret: z.string().openapi({ description: "base32, shown once", example: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" }),
    otpauth_uri: z.string().openapi({ example: "otpauth://totp/Acme:ada%40example.com?issuer=Acme&secret=…" }),
    algorithm: z.literal("SHA1"),
    digits: z.literal(6),
    period: z.literal(30),
  })
  .openapi("TwoFactorEnrolment");

const RecoveryCodesSchema = z
  .object({ enabled: z.literal(true), recovery_codes: z.array(z.string()) })
  .openapi("TwoFactorRecoveryCodes");

const status = op.get("/me/two-factor", {
  operationId: "getTwoFactor",
  summary: "Whether your two-factor authentication is on, and how many recovery codes remain",
  access: "user",
  responses: { 200: jsonResponse("your two-factor state", StatusSchema), 403: problem("the caller is not a user") },
});

const begin = op.post("/me/two-factor", {
  operationId: "beginTwoFactor",
  summary: "Start enrolling an authenticator app (not active until confirmed)",
  access: "user",
  responses: {
    201: jsonResponse(
      "the new secret and its otpauth URI, shown once; confirm with a code. `Location` is this same path, where GET reads the enrolment as pending",
      EnrolmentSchema,
      LOCATION_HEADER,
    ),
    403: problem("the caller is not a user"),
    409: problem("two-factor is already on (two_factor_enabled); disable it first"),
  },
});

const confirm = op.post("/me/two-factor/confirm", {
  operationId: "confirmTwoFactor",
  summary: "Turn two-factor on with a first code; answers the recovery codes, shown once",
  access: "user",
  request: { body: jsonBody(z.object({ code: TotpCodeSchema })) },
  responses: {
    200: jsonResponse("two-factor is on; keep these recovery codes (each works once)", RecoveryCodesSchema),
    403: problem("wrong or reused code (wrong_two_factor_code), or no enrolment started"),
    429: problem("too many codes tried (policy two_factor, per user)"),
  },
});

const disable = op.delete("/me/two-factor", {
  operationId: "disableTwoFactor",
  summary: "Turn two-factor off with a current code or a recovery code",
  access: "user",
  request: { body: jsonBody(ProofSchema) },
  responses: {
    204: { description: "off; the secret and recovery codes are forgotten" },
    403: problem("wrong, reused or used code (wrong_two_factor_code), or two-factor is off"),
    429: problem("too many codes tried (policy two_factor, per user)"),
  },
});

const reset = op.delete("/users/{id}/two-factor", {
  operationId: "resetTwoFactor",
  summary: "Turn a user's two-factor off (an admin's reset, e.g. a lost phone)",
  access: PERMISSIONS.identity.user.update,
  request: { params: IdParam },
  responses: {
    204: { description: "off; the user enrols again after their next login" },
    403: problem(
      "the user holds a permission the caller does not, or owner and the caller is not an owner; or the user is the caller (DELETE /api/v1/me/two-factor)",
    ),
    404: problem("no such user, or their two-factor is off"),
  },
});

const wrongCode = () =>
  identityError("wrong_two_factor_code", "the code is wrong, was already used, or two-factor is not set up");

/** The signed-in user (two-factor belongs to users: `access: "user"` refused a key already) and their tenant's directory. */
function me(c: Context<AppEnv>) {
  const user = principalOf(c, "user");
  const tenant = tenantOf(c);
  return { user, tenant, dir: directory(c.env, tenant.id) };
}

/** `/api/v1/me/two-factor` (enrolment, confirmation, disabling) and an admin's reset. */
export const twoFactorRoutes = createRouter()
  .openapi(status, async (c) => {
    const { user, dir } = me(c);
    return c.json(await dir.twoFactorStatus(user.id), 200);
  })
  .openapi(begin, async (c) => {
    const { user, tenant, dir } = me(c);
    const secret = newTotpSecret();
    const started = await dir.twoFactorBegin({
      ctx: originOf(c),
      userId: user.id,
      sealedSecret: await sealTotpSecret(c, user.id, secret),
    });
    if (!started.ok && started.error === "enabled") {
      throw identityError("two_factor_enabled", "two-factor is already on; disable it before enrolling again");
    }
    if (!started.ok) throw tokenRefused("the user no longer exists");
    c.header("Cache-Control", "no-store");
    // One enrolment per user, read (pending, then on) where it was started: its Location is this path.
    c.header("Location", "/api/v1/me/two-factor");
    const uri = otpauthUri(secret, tenant.name, started.value.email);
    return c.json({ secret, otpauth_uri: uri, ...TOTP_PARAMS }, 201);
  })
  .openapi(confirm, async (c) => {
    const { user, dir } = me(c);
    const tried = await enforce(c, "two_factor", user.id);
    const stored = await dir.twoFactorSecret(user.id);
    if (!stored || stored.enabled) throw wrongCode();
    const proof = await proofFor(c, user.id, stored.sealedSecret, { code: c.req.valid("json").code });
    const { codes, hashes } = await newRecoveryCodes();
    const step = "step" in proof ? proof.step : null;
    const result = await dir.twoFactorConfirm({
      ctx: originOf(c),
      userId: user.id,
      step,
      recoveryHashes: hashes,
      verifiedSecret: stored.sealedSecret,
    });
    if (!result.ok) throw wrongCode();
    await refund(c, tried); // a right code's try is given back (docs/identity.md, "Throttling")
    c.header("Cache-Control", "no-store");
    return c.json({ enabled: true as const, recovery_codes: codes }, 200);
  })
  .openapi(disable, async (c) => {
    const { user, dir } = me(c);
    const tried = await enforce(c, "two_factor", user.id);
    const stored = await dir.twoFactorSecret(user.id);
    if (!stored?.enabled) throw wrongCode();
    const proof = await proofFor(c, user.id, stored.sealedSecret, c.req.valid("json"));
    const result = await dir.twoFactorDisable({ ctx: originOf(c), userId: user.id, proof });
    if (!result.ok) throw wrongCode();
    await refund(c, tried);
    noticeAccountChange(c, user.id, "two_factor_off");
    return c.body(null, 204);
  })
  .openapi(reset, async (c) => {
    const { id } = c.req.valid("param");
    const result = await directory(c.env, tenantOf(c).id).twoFactorReset({ ctx: originOf(c), userId: id });
    if (!result.ok && result.error === "denied") throw refused(c, result.refusal, id);
    if (!result.ok) throw new AppError("not_found", { detail: "no such user, or their two-factor is off" });
    noticeAccountChange(c, id, "two_factor_reset");
    return c.body(null, 204);
  });
