/**
 * Programs that must never be in a Cairn root file system: shells, busybox
 * and package managers. Cairn is API-only; a shell in the image would be a
 * way in that the API does not control. The builder refuses to write an
 * image containing one, and tests check the shipped file list again.
 */
export const FORBIDDEN_NAMES = ["sh", "bash", "dash", "ash", "zsh", "busybox", "apt", "apt-get", "dpkg", "rpm"] as const;

/** Entries of a file list (absolute paths) whose base name is forbidden. */
export function findForbidden(paths: readonly string[]): string[] {
  return paths.filter((p) => (FORBIDDEN_NAMES as readonly string[]).includes(p.slice(p.lastIndexOf("/") + 1)));
}
