/**
 * The machine config module: the MachineConfig schema and everything done
 * with a config document (parse/validate, serialize, redact, patch, diff,
 * classify live vs reboot, JSON Schema). Import from here, not from the
 * files, so the files can be rearranged freely.
 */

// Relevant to every caller.
export { API_VERSION, KIND, MachineConfigSchema, SECRET_PATHS } from "./schema.js";
export type { MachineConfig, MachineConfigInput } from "./schema.js";
export { formatConfigErrors, parseMachineConfig, validateMachineConfig } from "./parse.js";
export { stringifyMachineConfig } from "./serialize.js";
export { REDACTED, redactMachineConfig, restoreRedactedSecrets } from "./redact.js";
export { applyConfigPatches, loadPatchArg, readPatchArg } from "./patch.js";
export type { ConfigPatch, NamedConfigPatch } from "./patch.js";
export { diffConfigs, unifiedConfigDiff } from "./diff.js";
export type { ConfigDelta, DiffLabels } from "./diff.js";
export { classifyDeltas, rebootRequiredPaths, RELOAD_RULES } from "./classify.js";
export type { ClassifiedDelta } from "./classify.js";
export { machineConfigJsonSchema } from "./json-schema.js";
export { REBOOT_STRATEGIES, UpdateSchema, WEEKDAYS } from "./update-schema.js";
export type { MaintenanceWindow, RebootStrategy, UpdateConfig, Weekday } from "./update-schema.js";

// Building blocks, for code that speaks the same path format or keying.
export {
  ClusterSchema,
  FileSchema,
  InterfaceSchema,
  LoggingDestinationSchema,
  MachineSchema,
  NetworkSchema,
  RouteSchema,
} from "./schema.js";
export { appendItem, appendKey, formatFieldPath, isUnderPath } from "./field-path.js";
export { KEYED_ARRAYS } from "./keyed-arrays.js";
