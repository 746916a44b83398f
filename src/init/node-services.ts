import { ServiceAction, type ServiceInfo } from "../api/index.js";
import { CairnError } from "../errors/index.js";

/** A service the node supervises, as ServiceList shows it. */
export interface SupervisedService {
  readonly id: string;
  info(): ServiceInfo;
  /** Restart is the only action that keeps the node reachable for these built-ins. */
  restart?(): Promise<void>;
}

/**
 * The registry of supervised services: an explicit list built by the boot,
 * never import-time registration. Built-in services refuse to stop, since
 * stopping machined or the API would leave the node unmanageable.
 */
export class ServiceRegistry {
  constructor(private readonly services: readonly SupervisedService[]) {}

  list(): ServiceInfo[] {
    return this.services.map((s) => s.info()).sort((a, b) => a.id.localeCompare(b.id));
  }

  async control(id: string, action: ServiceAction): Promise<ServiceInfo> {
    const svc = this.services.find((s) => s.id === id);
    if (!svc) {
      throw new CairnError("NOT_FOUND", `no service "${id}"`, { hint: `services: ${this.services.map((s) => s.id).join(", ")}` });
    }
    if (action === ServiceAction.SERVICE_ACTION_START) return svc.info();
    if (action === ServiceAction.SERVICE_ACTION_STOP || !svc.restart) {
      throw new CairnError("FAILED_PRECONDITION", `${id} is a built-in service and cannot be ${action === ServiceAction.SERVICE_ACTION_STOP ? "stopped" : "restarted"}: the node would become unmanageable`);
    }
    await svc.restart();
    return svc.info();
  }
}
