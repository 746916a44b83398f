// The part of containerd's generated API that src/workloads uses. Code outside
// this folder imports from here, never from ./gen, so a regeneration or a
// containerd version bump touches one place.
export { VersionClient } from "./gen/github.com/containerd/containerd/api/services/version/v1/version.js";
export { NamespacesClient } from "./gen/github.com/containerd/containerd/api/services/namespaces/v1/namespace.js";
export { ImagesClient, type Image } from "./gen/github.com/containerd/containerd/api/services/images/v1/images.js";
export { ContentClient, WriteAction, type WriteContentRequest, type WriteContentResponse, type Info as ContentInfo } from "./gen/github.com/containerd/containerd/api/services/content/v1/content.js";
export { SnapshotsClient, type Info as SnapshotInfo } from "./gen/github.com/containerd/containerd/api/services/snapshots/v1/snapshots.js";
export { DiffClient } from "./gen/github.com/containerd/containerd/api/services/diff/v1/diff.js";
export { ContainersClient, type Container } from "./gen/github.com/containerd/containerd/api/services/containers/v1/containers.js";
export { TasksClient } from "./gen/github.com/containerd/containerd/api/services/tasks/v1/tasks.js";
export { LeasesClient } from "./gen/github.com/containerd/containerd/api/services/leases/v1/leases.js";
export { EventsClient, type Envelope } from "./gen/github.com/containerd/containerd/api/services/events/v1/events.js";
export { TaskExit, TaskOOM } from "./gen/github.com/containerd/containerd/api/events/task.js";
export { Status as TaskStatus } from "./gen/github.com/containerd/containerd/api/types/task/task.js";
export type { Descriptor } from "./gen/github.com/containerd/containerd/api/types/descriptor.js";
export type { Mount } from "./gen/github.com/containerd/containerd/api/types/mount.js";
