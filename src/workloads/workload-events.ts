/** What the controller reports about workloads (the node turns these into API events and logs). */
export type WorkloadEventType =
  | "created"
  | "started"
  | "exited"
  | "oom"
  | "restarting"
  | "recreating"
  | "stopped"
  | "removed"
  | "failed"
  /** containerd went away while the task ran; the controller re-attaches when it is back. */
  | "detached"
  /** The task survived containerd's restart and is watched again (pid). */
  | "reattached";

export interface WorkloadEvent {
  readonly workload: string;
  readonly type: WorkloadEventType;
  /** Host PID of the task (started). */
  readonly pid?: number;
  /** Exit status as containerd reports it (128+signal when killed). */
  readonly exitStatus?: number;
  /** The kernel OOM-killed the workload in this run (exited). */
  readonly oomKilled?: boolean;
  /** Delay before the restart (restarting). */
  readonly delayMs?: number;
  readonly message?: string;
}

/** "unknown": containerd is unreachable, so whether the task still runs is not known until it answers. */
export type WorkloadState = "creating" | "running" | "restarting" | "exited" | "failed" | "stopping" | "unknown";

/** One workload as `nodectl containers` will show it. */
export interface WorkloadStatus {
  readonly name: string;
  readonly image: string;
  readonly state: WorkloadState;
  readonly pid: number | undefined;
  readonly restarts: number;
  readonly lastExitStatus: number | undefined;
  readonly lastOomKilled: boolean;
  readonly message: string | undefined;
}
