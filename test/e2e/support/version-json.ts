/** One slot as `nodectl version -o json` prints it. */
export interface SlotJson {
  name: string;
  version: string;
  state: number | string;
  triesLeft: number;
  isDefault: boolean;
}

/** The fields of `nodectl version -o json` the upgrade tests prove boots with. */
export interface VersionJson {
  osVersion: string;
  bootId: string;
  bootedSlot: string;
  maintenance: boolean;
  slots: SlotJson[];
  rolledBackFromVersion: string;
  rollbackReason: string;
}
