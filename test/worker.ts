/**
 * The workerd test suite's entry (vitest.config.ts `main`): the Worker as
 * deployed, plus test-only Durable Object classes.
 */
export * from "../src/index";
export { default } from "../src/index";
export { ProbeActor } from "./actors/probe-actor";
export { NoPingObject } from "./kernel/no-ping-object";
