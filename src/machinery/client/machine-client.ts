import { Metadata, status, type ChannelCredentials, type ClientReadableStream, type ClientWritableStream, type ServiceError } from "@grpc/grpc-js";
import {
  MachineServiceClient,
  type ApplyConfigurationRequest,
  type ApplyConfigurationResponse,
  type ContainerListResponse,
  type ContainerLogEntry,
  type ContainerLogsRequest,
  type ContainerRestartResponse,
  type ImageImportHeader,
  type ImageImportRequest,
  type ImageImportResponse,
  type ImageListResponse,
  type DataChunk,
  type DisksResponse,
  type DmesgRequest,
  type Event,
  type EventsRequest,
  type FileInfo,
  type GetConfigurationResponse,
  type GetResourcesResponse,
  type ResourceKind,
  type KernelLogEntry,
  type ListRequest,
  type LogEntry,
  type LogsRequest,
  type MemoryResponse,
  type MountsResponse,
  type NetstatResponse,
  type ProcessesResponse,
  type ResetResponse,
  type RollbackResponse,
  type ServiceAction,
  type ServiceControlResponse,
  type ServiceListResponse,
  type StatsResponse,
  type UpgradeHeader,
  type UpgradeRequest,
  type UpgradeResponse,
  type VersionResponse,
} from "../../api/index.js";

/** Default port of the machine API. */
export const DEFAULT_API_PORT = 50000;

/** "host" or "host:port" (IPv6 in brackets) → "host:port". */
export function withDefaultPort(address: string): string {
  if (/^\[.*\]:\d+$/.test(address) || /^[^:]+:\d+$/.test(address)) return address;
  return `${address}:${DEFAULT_API_PORT}`;
}

/** A gRPC error as the client sees it: code, text, and field-level details when the node sent them. */
export interface CallError extends ServiceError {
  fieldDetails?: { path: string; message: string }[];
}

type Unary<Req, Res> = (req: Req, md: Metadata, opts: { deadline: Date }, cb: (err: ServiceError | null, res?: Res) => void) => unknown;

/**
 * The typed client for one node: promises for unary calls, async iterables
 * for streams. nodectl and automation use this same code.
 */
export class MachineClient {
  private readonly raw: MachineServiceClient;

  constructor(readonly endpoint: string, creds: ChannelCredentials, private readonly timeoutMs = 30_000) {
    this.raw = new MachineServiceClient(withDefaultPort(endpoint), creds, { "grpc.max_receive_message_length": 64 * 1024 * 1024 });
  }

  private unary<Req, Res>(fn: Unary<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      fn.call(this.raw, req, new Metadata(), { deadline: new Date(Date.now() + this.timeoutMs) }, (err, res) => (err ? reject(enrich(err)) : resolve(res as Res)));
    });
  }

  version(): Promise<VersionResponse> {
    return this.unary(this.raw.version as Unary<object, VersionResponse>, {});
  }
  applyConfiguration(req: Partial<ApplyConfigurationRequest> & { data: Uint8Array }): Promise<ApplyConfigurationResponse> {
    const full: ApplyConfigurationRequest = { mode: 0, dryRun: false, tryTimeoutSeconds: 0, ...req };
    return this.unary(this.raw.applyConfiguration as Unary<ApplyConfigurationRequest, ApplyConfigurationResponse>, full);
  }
  getConfiguration(staged = false): Promise<GetConfigurationResponse> {
    return this.unary(this.raw.getConfiguration as Unary<object, GetConfigurationResponse>, { staged });
  }
  reboot(): Promise<{ bootId: string }> {
    return this.unary(this.raw.reboot as Unary<object, { bootId: string }>, {});
  }
  shutdown(): Promise<{ bootId: string }> {
    return this.unary(this.raw.shutdown as Unary<object, { bootId: string }>, {});
  }
  reset(wipe: string[], reboot: boolean): Promise<ResetResponse> {
    return this.unary(this.raw.reset as Unary<object, ResetResponse>, { wipe, reboot });
  }
  rollback(reboot: boolean): Promise<RollbackResponse> {
    return this.unary(this.raw.rollback as Unary<object, RollbackResponse>, { reboot });
  }
  serviceList(): Promise<ServiceListResponse> {
    return this.unary(this.raw.serviceList as Unary<object, ServiceListResponse>, {});
  }
  serviceControl(id: string, action: ServiceAction): Promise<ServiceControlResponse> {
    return this.unary(this.raw.serviceControl as Unary<object, ServiceControlResponse>, { id, action });
  }
  getResources(kind: ResourceKind): Promise<GetResourcesResponse> {
    return this.unary(this.raw.getResources as Unary<object, GetResourcesResponse>, { kind });
  }
  stats(): Promise<StatsResponse> {
    return this.unary(this.raw.stats as Unary<object, StatsResponse>, {});
  }

  /** ps: every process of the node (process mode: the node process and its children). */
  processes(): Promise<ProcessesResponse> {
    return this.unary(this.raw.processes as Unary<object, ProcessesResponse>, {});
  }
  /** free: /proc/meminfo in bytes. */
  memory(): Promise<MemoryResponse> {
    return this.unary(this.raw.memory as Unary<object, MemoryResponse>, {});
  }
  /** lsblk + df: disks, partitions with GPT labels, sizes, mounted usage. */
  disks(): Promise<DisksResponse> {
    return this.unary(this.raw.disks as Unary<object, DisksResponse>, {});
  }
  /** findmnt: mounts with read-only flags and usage. */
  mounts(): Promise<MountsResponse> {
    return this.unary(this.raw.mounts as Unary<object, MountsResponse>, {});
  }
  /** ss: TCP and UDP sockets, optionally only listening ones. */
  netstat(listeningOnly = false): Promise<NetstatResponse> {
    return this.unary(this.raw.netstat as Unary<object, NetstatResponse>, { listeningOnly });
  }

  logs(req: Partial<LogsRequest> & { service: string }, signal?: AbortSignal): AsyncIterable<LogEntry> {
    return this.stream(() => this.raw.logs({ follow: false, tailLines: 0, sinceSeconds: 0, ...req }), signal);
  }
  dmesg(req: Partial<DmesgRequest> = {}, signal?: AbortSignal): AsyncIterable<KernelLogEntry> {
    return this.stream(() => this.raw.dmesg({ follow: false, tailLines: 0, ...req }), signal);
  }
  events(req: Partial<EventsRequest> = {}, signal?: AbortSignal): AsyncIterable<Event> {
    return this.stream(() => this.raw.events({ sinceId: "", tailEvents: 0, follow: false, ...req }), signal);
  }
  list(req: Partial<ListRequest> & { path: string }, signal?: AbortSignal): AsyncIterable<FileInfo> {
    return this.stream(() => this.raw.list({ recursive: false, maxDepth: 0, ...req }), signal);
  }
  read(path: string, signal?: AbortSignal): AsyncIterable<DataChunk> {
    return this.stream(() => this.raw.read({ path }), signal);
  }
  /** A gzip'd tar of a file or directory tree, as chunks of the .tar.gz byte stream. */
  copy(path: string, signal?: AbortSignal): AsyncIterable<DataChunk> {
    return this.stream(() => this.raw.copy({ path }), signal);
  }

  /** The workloads the node runs (machine.workloads) and their state. */
  containerList(): Promise<ContainerListResponse> {
    return this.unary(this.raw.containerList as Unary<object, ContainerListResponse>, {});
  }
  /** Stops a workload's task and starts a new one. */
  containerRestart(name: string): Promise<ContainerRestartResponse> {
    return this.unary(this.raw.containerRestart as Unary<object, ContainerRestartResponse>, { name });
  }
  containerLogs(req: Partial<ContainerLogsRequest> & { name: string }, signal?: AbortSignal): AsyncIterable<ContainerLogEntry> {
    return this.stream(() => this.raw.containerLogs({ follow: false, tailLines: 0, ...req }), signal);
  }
  imageList(): Promise<ImageListResponse> {
    return this.unary(this.raw.imageList as Unary<object, ImageListResponse>, {});
  }
  imageRemove(name: string): Promise<void> {
    return this.unary(this.raw.imageRemove as Unary<object, object>, { name }).then(() => undefined);
  }
  /** Sends an OCI layout archive: header first, then chunks of at most 1 MiB. */
  imageImport(header: ImageImportHeader, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<ImageImportResponse> {
    return this.upload<ImageImportResponse, ImageImportRequest>((cb) => this.raw.imageImport(cb), { $case: "header", header }, chunks);
  }

  /** Sends a bundle: header first, then chunks of at most 1 MiB. */
  upgrade(header: UpgradeHeader, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<UpgradeResponse> {
    return this.upload<UpgradeResponse, UpgradeRequest>((cb) => this.raw.upgrade(cb), { $case: "header", header }, chunks);
  }

  /** A client-streamed upload: one header message, then the chunks with back-pressure; a failing source cancels the call. */
  private upload<Res, Req = unknown>(
    open: (cb: (err: ServiceError | null, res?: unknown) => void) => ClientWritableStream<Req>,
    header: { $case: "header"; header: unknown },
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      const call = open((err, res) => (err ? reject(enrich(err)) : resolve(res as Res)));
      void (async () => {
        try {
          call.write({ msg: header } as Req);
          for await (const chunk of chunks) {
            if (!call.write({ msg: { $case: "chunk", chunk: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) } } as Req)) await new Promise((r) => call.once("drain", r));
          }
          call.end();
        } catch (e) {
          call.cancel();
          reject(e);
        }
      })();
    });
  }

  private async *stream<T>(open: () => ClientReadableStream<T>, signal?: AbortSignal): AsyncIterable<T> {
    const call = open();
    const onAbort = () => call.cancel();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for await (const msg of call as AsyncIterable<T>) yield msg;
    } catch (e) {
      if ((e as ServiceError).code === status.CANCELLED && signal?.aborted) return;
      throw enrich(e as ServiceError);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      call.cancel();
    }
  }

  close(): void {
    this.raw.close();
  }
}

function enrich(err: ServiceError): CallError {
  const raw = err.metadata?.get("cairn-error-details")[0];
  if (raw !== undefined) {
    try {
      (err as CallError).fieldDetails = JSON.parse(String(raw)) as { path: string; message: string }[];
    } catch {
      // Details are a convenience; the message already carries them as text.
    }
  }
  return err;
}
