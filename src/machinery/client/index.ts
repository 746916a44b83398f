// The typed client library: what nodectl and automation use to drive nodes.
export { MachineClient, withDefaultPort, DEFAULT_API_PORT, type CallError } from "./machine-client.js";
export { mtlsChannelCredentials, maintenanceChannelCredentials } from "./credentials.js";
export { connectNode, fanOut, resolveNodes, type NodeResult, type Targets } from "./connect.js";
export {
  NodectlConfigSchema,
  NodectlContextSchema,
  contextCredentials,
  currentContext,
  mergeContext,
  parseNodectlConfig,
  readNodectlConfig,
  stringifyNodectlConfig,
  useContext,
  writeNodectlConfig,
  type NodectlConfig,
  type NodectlContext,
} from "./nodectl-config.js";
export {
  generateClusterSecrets,
  issueClientContext,
  parseSecrets,
  renderNodeConfig,
  stringifySecrets,
  writeGeneratedConfig,
  type ClientRole,
  type ClusterSecrets,
} from "./gen-config.js";
