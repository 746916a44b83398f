import { CairnError } from "../../errors/index.js";

/** A parsed image reference: `registry.example:5000/team/app:1.2` or `...@sha256:...`. */
export interface ImageReference {
  /** host[:port] as written (docker.io for short names). */
  readonly registry: string;
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
  /** The canonical full name the image record gets. */
  readonly name: string;
}

const REPO_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/**
 * Parses an image reference the way docker/containerd do: the first path part
 * is a registry when it has a dot or a port or is `localhost`; otherwise the
 * image is on Docker Hub (`library/` for single names). No tag means `latest`.
 */
export function parseReference(ref: string, where = "image"): ImageReference {
  const bad = (why: string): CairnError => new CairnError("INVALID_ARGUMENT", `${where}: ${why}: ${ref}`);
  let rest = ref.trim();
  if (rest === "") throw bad("empty image reference");
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    if (!DIGEST_RE.test(digest)) throw bad("digest must be sha256:<64 hex>");
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    if (!TAG_RE.test(tag)) throw bad("invalid tag");
    rest = rest.slice(0, colon);
  }
  const parts = rest.split("/");
  let registry = "docker.io";
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first;
    parts.shift();
  }
  if (registry === "docker.io" && parts.length === 1) parts.unshift("library");
  const repository = parts.join("/");
  if (!REPO_RE.test(repository)) throw bad("invalid repository name");
  if (!tag && !digest) tag = "latest";
  const name = `${registry}/${repository}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`;
  return { registry, repository, tag, digest, name };
}
