import { Hono } from "hono";

// Bare Hono app: the benchmark baseline (framework + runtime cost, no app logic).
const app = new Hono().get("/", (c) => c.text("hello"));

export default app;
