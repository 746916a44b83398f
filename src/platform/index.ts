// The only door to the kernel and the host. Consumers import from here.
export type {
  BootIdentity,
  BootStore,
  EntryFile,
  FileRange,
  InterfaceSpec,
  KernelLogRecord,
  LinkStatus,
  MountInfo,
  NetworkSpec,
  Platform,
  PlatformPaths,
  PowerAction,
  RuntimeMode,
  SlotName,
  StatsSnapshot,
} from "./platform.js";
export { ProcessPlatform, type ProcessPlatformOptions } from "./process/process-platform.js";
