// The only door to the kernel and the host. Consumers import from here.
export type {
  BootIdentity,
  BlockDeviceSnapshot,
  BootStore,
  EntryFile,
  FileRange,
  InterfaceSpec,
  KernelLogRecord,
  LinkStatus,
  MachineInspector,
  MountInfo,
  NetworkSpec,
  Platform,
  PlatformPaths,
  PowerAction,
  ProcessSnapshot,
  RuntimeMode,
  SlotName,
  SocketSnapshot,
  StatsSnapshot,
} from "./platform.js";
export { ProcessPlatform, type ProcessPlatformOptions } from "./process/process-platform.js";
