import { z } from "@hono/zod-openapi";
import { passwordProblem } from "../../kernel/crypto";

/** An email as the directory keys it: trimmed, lower-cased. */
export const EmailSchema = z
  .string()
  .max(320)
  .transform((e) => e.trim().toLowerCase())
  .pipe(z.email({ message: "must be an email address" }))
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

export const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    roles: z.array(z.string()),
    email_verified: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("User");

export const TokenPairSchema = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
  })
  .openapi("TokenPair");

export const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.string()),
    expires_at: z.string().nullable(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
  })
  .openapi("ApiKey");

/** `?limit=&cursor=` of every list. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(64).optional(),
});

export const IdParam = z.object({ id: z.string().min(1).max(64) });

/** The contract's list envelope. */
export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() });

/** A JSON request body for `createRoute`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

/** A JSON response for `createRoute`. */
export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});
