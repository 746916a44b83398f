export { CairnError, isCairnError } from "./cairn-error.js";
export type { ErrorCode, ErrorDetail } from "./cairn-error.js";
