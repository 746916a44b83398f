/** Log shipping: machine.logging.destinations, JSON lines over TCP or UDP. */
export { LogShipper, type LogDestination, type LogShipperOptions } from "./log-shipper.js";
export { shipperServiceInfo } from "./shipper-service.js";
export { parseLogEndpoint, type LogEndpoint } from "./endpoint.js";
export { toJsonLine } from "./json-line.js";
export type { LogSender, SenderStatus } from "./sender.js";
