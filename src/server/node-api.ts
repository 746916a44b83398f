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
  /** One kind of observed state (GetResources). */
  resources(kind: ResourceKind): Promise<GetResourcesResponse>;
}
