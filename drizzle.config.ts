import { defineConfig } from "drizzle-kit";

// D1 migrations are generated from the drizzle schemas of the kernel and of
// every module's read model: `npx drizzle-kit generate --name <what>`.
export default defineConfig({
  dialect: "sqlite",
  schema: ["./src/kernel/db/schema.ts", "./src/modules/*/read-model.ts"],
  out: "./migrations",
});
