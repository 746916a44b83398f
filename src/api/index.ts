// Public face of the generated API. Code outside src/api imports from here,
// never from ./gen directly, so a regeneration touches one folder.
export * from "./gen/index.js";
export { METHODS, methodPath, type MethodName } from "./methods.js";
export { DESCRIPTOR_SET_BASE64 } from "./gen/descriptor.js";
