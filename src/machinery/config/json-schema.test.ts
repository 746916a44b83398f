import { describe, expect, it } from "vitest";
import { machineConfigJsonSchema } from "./json-schema.js";

type JsonSchema = {
  $schema?: string;
  title?: string;
  required?: string[];
  additionalProperties?: unknown;
  properties?: Record<string, JsonSchema>;
};

describe("machineConfigJsonSchema", () => {
  const schema = machineConfigJsonSchema() as JsonSchema;

  it("is a titled draft 2020-12 schema", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.title).toBe("Cairn MachineConfig cairn.dev/v1alpha1");
  });

  it("forbids unknown keys at the root, on machine and deeper", () => {
    expect(schema.additionalProperties).toBe(false);
    const machine = schema.properties?.machine;
    expect(machine?.additionalProperties).toBe(false);
    expect(machine?.properties?.network?.additionalProperties).toBe(false);
  });

  it("describes input: defaulted fields are optional, required ones are not", () => {
    const machine = schema.properties?.machine;
    expect(machine?.required).toEqual(["ca"]);
    expect(schema.required).toEqual(["apiVersion", "kind", "machine", "cluster"]);
  });

  it("is plain JSON", () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});
