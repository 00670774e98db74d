import { z } from "@hono/zod-openapi";
import { passwordProblem } from "../../kernel/crypto";
import { normaliseEmail } from "../../kernel/text/email-address";
import { KeyViewSchema, UserViewSchema } from "./directory/types";

/** An email as the directory keys it ({@link normaliseEmail}: trimmed, lower-cased, its domain in punycode). */
export const EmailSchema = z
  .string()
  .max(320)
  .transform(normaliseEmail)
  .pipe(z.email({ message: "must be an email address" }).max(320))
  .openapi({ type: "string", format: "email", example: "ada@example.com" });

/** A new password: 12+ characters, at most 1024 bytes. */
export const NewPasswordSchema = z
  .string()
  .superRefine((password, ctx) => {
    const problem = passwordProblem(password);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .openapi({ type: "string", minLength: 12, example: "correct horse battery staple" });

/** A password presented at login: bounded so hashing cost is bounded. */
export const PresentedPasswordSchema = z.string().min(1).max(4096).openapi({ type: "string" });

export const TokenSchema = z.string().min(1).max(256);

/** A user as the contract shows it (the directory's own view). */
export const UserSchema = UserViewSchema.openapi("User");

export const TokenPairSchema = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
  })
  .openapi("TokenPair");

/** An API key without its secret (the directory's own view). */
export const KeySchema = KeyViewSchema.extend({
  unknown_scopes: z.array(z.string()).optional().openapi({
    description:
      "Those of `scopes` that no module of this deployment declares, patterns covering none it declares included (their module was removed): they grant nothing, and a new key cannot be given them; present only when there are some",
  }),
}).openapi("ApiKey");

/** Where GET reads one key: the Location of each POST that creates one (the platform's too). */
export const keyPath = (id: string) => `/api/v1/admin/api-keys/${id}`;
