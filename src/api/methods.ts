import { MachineServiceService } from "./gen/cairn/machine/v1/machine.js";

/** RPC method names, derived from the generated service definition (never typed by hand). */
export type MethodName = keyof typeof MachineServiceService;

/** Every method of MachineService, in proto order. */
export const METHODS = Object.keys(MachineServiceService) as MethodName[];

/** The full gRPC path of a method, e.g. "/cairn.machine.v1.MachineService/Version". */
export function methodPath(name: MethodName): string {
  return MachineServiceService[name].path;
}
