import { Document, isScalar } from "yaml";
import { orderLikeSchema } from "./schema-order.js";
import { MachineConfigSchema, type MachineConfig, type MachineConfigInput } from "./schema.js";

/**
 * Renders a machine config as YAML that parseMachineConfig reads back to the
 * same value: keys in schema order, record keys sorted, PEM and other
 * multi-line strings as literal blocks, file modes in octal (0o644) because
 * that is how people read permissions. Works on validated configs and on
 * user input with defaults left out; it does not validate.
 */
export function stringifyMachineConfig(cfg: MachineConfig | MachineConfigInput): string {
  const doc = new Document(orderLikeSchema(cfg, MachineConfigSchema));
  const files = (cfg as { machine?: { files?: unknown } }).machine?.files;
  if (Array.isArray(files)) {
    files.forEach((_, i) => {
      const node = doc.getIn(["machine", "files", i, "mode"], true);
      if (isScalar(node) && typeof node.value === "number") node.format = "OCT";
    });
  }
  // lineWidth 0: never fold long strings (kernel args, file content) into several lines.
  return doc.toString({ lineWidth: 0 });
}
