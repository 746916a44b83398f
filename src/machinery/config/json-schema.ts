import { z } from "zod";
import { API_VERSION, KIND, MachineConfigSchema } from "./schema.js";

/**
 * The MachineConfig schema as JSON Schema (draft 2020-12), derived from the
 * zod schema so the two cannot drift. It describes what a user writes
 * (io: "input": fields with defaults are optional), for editor completion
 * and validation, e.g. yaml-language-server. Refinements written as code
 * (CIDR checks, unique interface names) are not expressible and are only
 * enforced by parseMachineConfig.
 */
export function machineConfigJsonSchema(): object {
  const schema = z.toJSONSchema(MachineConfigSchema, { io: "input", target: "draft-2020-12" });
  return {
    ...schema,
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `Cairn ${KIND} ${API_VERSION}`,
  };
}
