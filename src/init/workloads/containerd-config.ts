/** Where containerd keeps its data, state and socket on this node. */
export interface ContainerdPaths {
  readonly root: string;
  readonly state: string;
  readonly socket: string;
}

/** A TOML basic string: paths never hold quotes or backslashes, but refuse them rather than guess. */
function tomlString(s: string): string {
  if (/["\\\n]/.test(s)) throw new Error(`containerd config: unsupported character in ${JSON.stringify(s)}`);
  return `"${s}"`;
}

/**
 * containerd's config.toml (version 2) as the node generates it at boot:
 * data on EPHEMERAL, state and sockets on /run, the CRI plugin disabled
 * (Cairn uses containerd's own API), the opt plugin's directory under the
 * root (the image's /opt is read-only), JSON logs for the node's log system,
 * and an OOM score that keeps the kernel's OOM killer on workloads first.
 */
export function containerdConfigToml(p: ContainerdPaths): string {
  return [
    "version = 2",
    `root = ${tomlString(p.root)}`,
    `state = ${tomlString(p.state)}`,
    "oom_score = -999",
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    "",
    "[grpc]",
    `  address = ${tomlString(p.socket)}`,
    "",
    "[ttrpc]",
    `  address = ${tomlString(`${p.socket}.ttrpc`)}`,
    "",
    "[debug]",
    '  address = ""',
    '  format = "json"',
    '  level = "info"',
    "",
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${tomlString(`${p.root}/opt`)}`,
    "",
  ].join("\n");
}
