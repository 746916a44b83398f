// Public face of the generated API. Code outside src/api imports from here,
// never from ./gen directly, so a regeneration touches one folder.
export * from "./gen/cairn/machine/v1/machine.js";
export * from "./gen/cairn/machine/v1/version.js";
export * from "./gen/cairn/machine/v1/config.js";
export * from "./gen/cairn/machine/v1/lifecycle.js";
export * from "./gen/cairn/machine/v1/upgrade.js";
export * from "./gen/cairn/machine/v1/services.js";
export * from "./gen/cairn/machine/v1/logs.js";
export * from "./gen/cairn/machine/v1/events.js";
export * from "./gen/cairn/machine/v1/stats.js";
export * from "./gen/cairn/machine/v1/files.js";
export { METHODS, methodPath, type MethodName } from "./methods.js";
