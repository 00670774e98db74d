export { ReadModelEnvSchema, type ReadModelTarget, readModelTarget } from "./config";
export { commit, type ReadModelDb, readModels, rowsChanged, targetOf } from "./db";
export { readModelsCheck } from "./health";
export { jsonInsert, jsonList, newerOnly, unlessSame } from "./json-rows";
