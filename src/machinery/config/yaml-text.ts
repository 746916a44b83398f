import { parseDocument, type ScalarTag } from "yaml";
import type { ErrorDetail } from "../../errors/index.js";

/**
 * Plain scalars like `0644` read as octal, as in YAML 1.1 and every Unix
 * tool. The core YAML 1.2 schema would read 0644 as decimal 644 (= 0o1204),
 * a valid-looking but wrong file mode that no validation could catch.
 * `0o644` and `420` keep working.
 */
const LEADING_ZERO_OCTAL: ScalarTag = {
  identify: (v) => typeof v === "number" && Number.isInteger(v),
  default: true,
  tag: "tag:yaml.org,2002:int",
  format: "OCT",
  test: /^0[0-7]+$/,
  resolve: (s: string) => parseInt(s, 8),
};

/** Result of reading YAML (or JSON) text: the plain value, or every syntax problem. */
export type YamlTextResult = { ok: true; value: unknown } | { ok: false; details: ErrorDetail[] };

/**
 * Parses one YAML (or JSON) document into plain JS values. Syntax errors,
 * duplicate keys and multiple documents are reported as details with path ""
 * and a "line L:C" position, never thrown, so callers can fold them into
 * their own error.
 */
export function parseYamlText(text: string): YamlTextResult {
  const doc = parseDocument(text, {
    customTags: (tags) => [LEADING_ZERO_OCTAL, ...tags],
    uniqueKeys: true,
    prettyErrors: true,
  });
  if (doc.errors.length > 0) {
    const details = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      // prettyErrors appends " at line L, column C:" and a source excerpt; keep the first sentence.
      const first =
        e.code === "MULTIPLE_DOCS"
          ? "expected a single YAML document, found a second one (---)"
          : (e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
      return { path: "", message: pos ? `line ${pos.line}:${pos.col}: ${first}` : first };
    });
    return { ok: false, details };
  }
  // maxAliasCount bounds "billion laughs" expansion of hostile input.
  // toJS throws on what parsing lets through: an alias to no anchor ("*a"),
  // too many aliases. Found by src/machinery/config/config-fuzz.test.ts.
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0] ?? "" : String(e);
    return { ok: false, details: [{ path: "", message: `cannot resolve the document: ${message}` }] };
  }
}
