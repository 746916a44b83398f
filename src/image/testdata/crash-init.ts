/**
 * Test entry for the automatic-rollback e2e test: a PID 1 that announces
 * itself and exits at once. The kernel panics ("Attempted to kill init"),
 * `panic=-1` reboots immediately, and systemd-boot counts the failed try,
 * so after three boots the other slot boots again.
 */
import { writeSync } from "node:fs";

writeSync(1, "CAIRN-CRASH-INIT: exiting as PID 1 on purpose\n");
process.exit(1);
