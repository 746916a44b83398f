import { credentials, Metadata, status, type CallOptions, type ServiceError } from "@grpc/grpc-js";
import { CairnError, type ErrorCode } from "../../errors/index.js";
import {
  ContainersClient,
  ContentClient,
  DiffClient,
  EventsClient,
  ImagesClient,
  LeasesClient,
  NamespacesClient,
  SnapshotsClient,
  TasksClient,
  VersionClient,
} from "./api.js";

/** Where Debian's containerd listens by default; the node passes its own path. */
export const DEFAULT_CONTAINERD_SOCKET = "/run/containerd/containerd.sock";

/** containerd scopes every object (images, content, containers) by this header. */
const NAMESPACE_HEADER = "containerd-namespace";
/** Content and snapshots created while this header names a lease survive GC until the lease goes. */
const LEASE_HEADER = "containerd-lease";

export interface ContainerdClientOptions {
  /** Path of containerd's gRPC unix socket (the caller knows where the node runs it). */
  readonly socketPath: string;
  /** containerd namespace for every call, e.g. "cairn". */
  readonly namespace: string;
}

/** Per-call extras: a lease to protect what the call creates, a deadline. */
export interface CallExtras {
  readonly lease?: string;
  readonly timeoutMs?: number;
}

type UnaryFn<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: Partial<CallOptions>,
  cb: (err: ServiceError | null, res: Res) => void,
) => unknown;

/**
 * A typed containerd client over its unix socket: one grpc-js channel shared by
 * the ten services Cairn uses, the namespace header on every call, and errors
 * turned into CairnErrors that keep containerd's message.
 */
export class ContainerdClient {
  readonly version: VersionClient;
  readonly namespaces: NamespacesClient;
  readonly images: ImagesClient;
  readonly content: ContentClient;
  readonly snapshots: SnapshotsClient;
  readonly diff: DiffClient;
  readonly containers: ContainersClient;
  readonly tasks: TasksClient;
  readonly leases: LeasesClient;
  readonly events: EventsClient;
  readonly namespace: string;

  constructor(opts: ContainerdClientOptions) {
    if (!opts.socketPath.startsWith("/")) {
      throw new CairnError("INVALID_ARGUMENT", `containerd socket path must be absolute: ${opts.socketPath}`);
    }
    this.namespace = opts.namespace;
    const target = `unix://${opts.socketPath}`;
    const creds = credentials.createInsecure();
    // Layers go through Content.Write in 1 MiB chunks; containerd answers with large lists.
    const channelOpts = { "grpc.max_receive_message_length": 64 * 1024 * 1024, "grpc.max_send_message_length": 16 * 1024 * 1024 };
    this.version = new VersionClient(target, creds, channelOpts);
    // Every other client reuses the first one's channel: one connection to containerd.
    const shared = { channelOverride: this.version.getChannel() };
    this.namespaces = new NamespacesClient(target, creds, shared);
    this.images = new ImagesClient(target, creds, shared);
    this.content = new ContentClient(target, creds, shared);
    this.snapshots = new SnapshotsClient(target, creds, shared);
    this.diff = new DiffClient(target, creds, shared);
    this.containers = new ContainersClient(target, creds, shared);
    this.tasks = new TasksClient(target, creds, shared);
    this.leases = new LeasesClient(target, creds, shared);
    this.events = new EventsClient(target, creds, shared);
  }

  /** Metadata with the namespace (and lease) headers, for streaming calls. */
  metadata(extras: CallExtras = {}): Metadata {
    const md = new Metadata();
    md.set(NAMESPACE_HEADER, this.namespace);
    if (extras.lease) md.set(LEASE_HEADER, extras.lease);
    return md;
  }

  /** Call options with a deadline when one is asked for. */
  callOptions(extras: CallExtras = {}): Partial<CallOptions> {
    return extras.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + extras.timeoutMs) };
  }

  /**
   * One unary RPC as a promise: `ctd.call(ctd.images.get.bind(ctd.images), { name })`.
   * `what` names the operation in the error message.
   */
  call<Req, Res>(fn: UnaryFn<Req, Res>, req: Req, what: string, extras: CallExtras = {}): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      fn(req, this.metadata(extras), this.callOptions(extras), (err, res) => {
        if (err) reject(containerdError(err, what));
        else resolve(res);
      });
    });
  }

  /** Closes the shared channel; the client is unusable afterwards. */
  close(): void {
    this.version.close();
  }
}

const CODE_BY_STATUS: Partial<Record<status, ErrorCode>> = {
  [status.NOT_FOUND]: "NOT_FOUND",
  [status.ALREADY_EXISTS]: "ALREADY_EXISTS",
  [status.FAILED_PRECONDITION]: "FAILED_PRECONDITION",
  [status.INVALID_ARGUMENT]: "INVALID_ARGUMENT",
  [status.UNAVAILABLE]: "UNAVAILABLE",
  [status.DEADLINE_EXCEEDED]: "DEADLINE_EXCEEDED",
  [status.UNIMPLEMENTED]: "UNIMPLEMENTED",
  [status.CANCELLED]: "ABORTED",
  [status.ABORTED]: "ABORTED",
};

/** A containerd gRPC failure as a CairnError: `containerd: get image app:1: NOT_FOUND ...`. */
export function containerdError(err: ServiceError, what: string): CairnError {
  const code = CODE_BY_STATUS[err.code as status] ?? "INTERNAL";
  return new CairnError(code, `containerd: ${what}: ${err.details || err.message}`, { cause: err });
}

/** True when a CairnError from `call` carries this code (e.g. NOT_FOUND for "absent"). */
export function hasCode(e: unknown, code: ErrorCode): boolean {
  return e instanceof CairnError && e.code === code;
}
