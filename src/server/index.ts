// The machine API server: credentials, the call gate, handlers by area.
export { startApiServer, type ApiServer } from "./api-server.js";
export { maintenanceCredentials, mtlsCredentials } from "./credentials.js";
export { maintenanceGate, mtlsGate, type CallGate, type CallContext } from "./call-context.js";
export { toServiceError, DETAILS_METADATA_KEY } from "./status.js";
export type { NodeApi, ApiLogLine, ApiEvent } from "./node-api.js";
