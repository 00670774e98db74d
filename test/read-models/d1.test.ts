import { env } from "cloudflare:test";
import { readModels } from "../../src/kernel/read-models";
import { readModelSuite } from "./suite";

// The D1 half of the read-model repository suite: the worker's own DB binding, as readModels() gives it.
readModelSuite("D1", () => readModels(env));
