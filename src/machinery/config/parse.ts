import type { z } from "zod";
import { CairnError, type ErrorDetail } from "../../errors/index.js";
import { appendKey, formatFieldPath } from "./field-path.js";
import { MachineConfigSchema, type MachineConfig } from "./schema.js";
import { parseYamlText } from "./yaml-text.js";

const DEFAULT_SOURCE = "machine config";

/**
 * Parses and validates MachineConfig YAML (JSON works too: it is YAML).
 * Throws CONFIG_INVALID listing every problem at once, syntax errors with
 * their line:column, so a user fixes a config in one round instead of one
 * error per attempt. `source` (a file name, "ApplyConfiguration", ...)
 * prefixes the message so the user knows which document is wrong.
 */
export function parseMachineConfig(text: string, source: string = DEFAULT_SOURCE): MachineConfig {
  const parsed = parseYamlText(text);
  if (!parsed.ok) throw configInvalid(source, parsed.details);
  return validateMachineConfig(parsed.value, source);
}

/**
 * Validates an already-parsed value (e.g. the result of applying patches)
 * and fills in defaults. Same error contract as parseMachineConfig: unknown
 * keys are "unknown field" at their own path, never silently dropped.
 */
export function validateMachineConfig(obj: unknown, source: string = DEFAULT_SOURCE): MachineConfig {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    const what = obj === null || obj === undefined ? "an empty document" : Array.isArray(obj) ? "a list" : `a ${typeof obj}`;
    throw configInvalid(source, [{ path: "", message: `expected a MachineConfig mapping, got ${what}` }]);
  }
  const result = MachineConfigSchema.safeParse(obj, {
    // Zod's "expected string, received undefined" hides the real problem.
    error: (iss) => (iss.code === "invalid_type" && iss.input === undefined ? "required field is missing" : undefined),
  });
  if (result.success) return result.data;
  throw configInvalid(source, issuesToDetails(result.error.issues));
}

/**
 * Renders a CONFIG_INVALID (or any CairnError) for a terminal: one
 * "path: message" line per detail, "<root>" for document-level problems.
 * Falls back to the error message when there are no details, so the output
 * is never empty.
 */
export function formatConfigErrors(err: CairnError): string {
  if (err.details.length === 0) return err.message;
  return err.details.map((d) => `${d.path === "" ? "<root>" : d.path}: ${d.message}`).join("\n");
}

/** Flattens zod issues to one detail per problem, one per unknown key. */
function issuesToDetails(issues: readonly z.core.$ZodIssue[]): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const iss of issues) {
    const path = formatFieldPath(iss.path);
    if (iss.code === "unrecognized_keys") {
      for (const key of iss.keys) details.push({ path: appendKey(path, key), message: "unknown field" });
    } else if (iss.code === "invalid_key") {
      const inner = iss.issues.map((i) => i.message).join("; ");
      details.push({ path, message: `invalid key: ${inner}` });
    } else {
      details.push({ path, message: iss.message });
    }
  }
  return details;
}

function configInvalid(source: string, details: ErrorDetail[]): CairnError {
  const n = details.length;
  return new CairnError("CONFIG_INVALID", `${source}: ${n} ${n === 1 ? "problem" : "problems"} in machine config`, {
    details,
  });
}
