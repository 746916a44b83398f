import { memoryBytes, type RegistryConfig, type WorkloadConfig } from "../machinery/config/workloads-schema.js";
import type { RegistryAccess } from "./registry/client.js";
import type { WorkloadSpec } from "./workload-spec.js";

/** machine.workloads (validated, defaults filled) as the controller's specs. */
export function workloadSpecsFromConfig(workloads: readonly WorkloadConfig[]): WorkloadSpec[] {
  return workloads.map((w) => ({
    name: w.name,
    image: w.image,
    ...(w.args ? { args: w.args } : {}),
    env: w.env,
    mounts: w.mounts,
    restart: w.restart,
    resources: {
      ...(w.resources.cpu !== undefined ? { cpu: w.resources.cpu } : {}),
      ...(w.resources.memory !== undefined ? { memoryBytes: memoryBytes(w.resources.memory) } : {}),
    },
    network: w.network,
    readOnlyRootfs: w.readOnlyRootfs,
  }));
}

/** machine.registries as pull access by host[:port]. */
export function registryAccessFromConfig(registries: Readonly<Record<string, RegistryConfig>>): Record<string, RegistryAccess> {
  return Object.fromEntries(Object.entries(registries).map(([host, r]) => [host, { ...r }]));
}
