import type {
  ApplyConfigurationRequest,
  ApplyConfigurationResponse,
  GetConfigurationResponse,
  GetResourcesResponse,
  ResourceKind,
  RollbackResponse,
  ServiceAction,
  ServiceInfo,
  UpgradeHeader,
  UpgradeResponse,
  VersionResponse,
} from "../api/index.js";
import type { Readable } from "node:stream";
import type { Platform } from "../platform/index.js";

/** One kept log line, as the Logs RPC streams it. */
export interface ApiLogLine {
  readonly service: string;
  readonly timeUnixMs: number;
  readonly level: string;
  readonly message: string;
}

/** One node event, as the Events RPC streams it. */
export interface ApiEvent {
  readonly id: string;
  readonly timeUnixMs: number;
  readonly type: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** One workload as ContainerList shows it. */
export interface ApiWorkload {
  readonly name: string;
  readonly image: string;
  readonly state: string;
  readonly pid: number | undefined;
  readonly restarts: number;
  readonly lastExitStatus: number | undefined;
  readonly lastOomKilled: boolean;
  readonly message: string | undefined;
}

/** One image as ImageList shows it. */
export interface ApiImage {
  readonly name: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly createdAt: Date | undefined;
}

/** The node's workloads and images (containerd), for the container RPCs. */
export interface WorkloadsApi {
  list(): ApiWorkload[];
  /** The log-system service that holds a workload's output. */
  logService(name: string): string;
  restart(name: string): Promise<void>;
  listImages(): Promise<ApiImage[]>;
  /** `fileName` names the archive in error messages. */
  importImage(archive: Readable, name: string | undefined, fileName: string): Promise<string[]>;
  removeImage(name: string): Promise<void>;
}

/**
 * What the API handlers need from the node, as narrow capabilities. The
 * server never reboots, mounts or writes by itself: it asks these.
 */
export interface NodeApi {
  version(): VersionResponse;
  readonly config: {
    apply(req: ApplyConfigurationRequest): Promise<ApplyConfigurationResponse>;
    get(staged: boolean): Promise<GetConfigurationResponse>;
  };
  readonly power: {
    reboot(): void;
    shutdown(): void;
    reset(wipe: readonly string[], reboot: boolean): Promise<readonly string[]>;
  };
  readonly services: {
    list(): ServiceInfo[];
    control(id: string, action: ServiceAction): Promise<ServiceInfo>;
  };
  readonly logs: {
    services(): string[];
    tail(service: string, n: number): ApiLogLine[];
    subscribe(fn: (l: ApiLogLine) => void): () => void;
  };
  readonly events: {
    replay(opts: { sinceId?: string; tail?: number }): ApiEvent[];
    subscribe(fn: (e: ApiEvent) => void): () => void;
  };
  readonly upgrade: {
    install(header: UpgradeHeader, chunks: AsyncIterable<Uint8Array>): Promise<UpgradeResponse>;
    rollback(reboot: boolean): Promise<RollbackResponse>;
  };
  readonly platform: Pick<Platform, "kernelLog" | "stats" | "hostPath" | "mounts" | "inspect" | "paths">;
  /** Workloads and images; undefined when the node has no container runtime. */
  readonly workloads: WorkloadsApi | undefined;
  /** One kind of observed state (GetResources). */
  resources(kind: ResourceKind): Promise<GetResourcesResponse>;
}
