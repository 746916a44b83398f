import { CairnError, type ErrorCode } from "../errors/index.js";

/**
 * QMP error classes (QEMU qapi/error.json) mapped to Cairn codes. Anything
 * unlisted, including GenericError, is a command QEMU refused in its current
 * state, hence FAILED_PRECONDITION.
 */
const CLASS_TO_CODE: Readonly<Record<string, ErrorCode>> = {
  CommandNotFound: "UNIMPLEMENTED",
  DeviceNotFound: "NOT_FOUND",
  DeviceNotActive: "FAILED_PRECONDITION",
  KVMMissingCap: "FAILED_PRECONDITION",
};

/**
 * An error answer from QEMU's QMP. `qmpClass` is QEMU's error class
 * (e.g. "CommandNotFound"), `command` the command that failed.
 */
export class QmpError extends CairnError {
  readonly qmpClass: string;
  readonly command: string;

  constructor(command: string, qmpClass: string, desc: string) {
    super(CLASS_TO_CODE[qmpClass] ?? "FAILED_PRECONDITION", `QMP ${command} failed: ${qmpClass}: ${desc}`);
    this.qmpClass = qmpClass;
    this.command = command;
  }
}
