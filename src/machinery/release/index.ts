/** Release channels: signed static metadata (publish side and the node's check side) and semver. */
export { CHANNEL_FORMAT, CHANNEL_NAME, ChannelPayloadSchema, ChannelReleaseSchema, parseStrict } from "./channel-metadata.js";
export type { ChannelEnvelope, ChannelPayload, ChannelRelease } from "./channel-metadata.js";
export { keyIdOf, signChannel, verifyChannel } from "./channel-signature.js";
export type { VerifiedChannel } from "./channel-signature.js";
export { MAX_CHANNEL_BYTES, channelUrl, checkFreshness, downloadRelease, fetchChannel, pickUpdate } from "./channel-check.js";
export type { SeenChannel, Skipped } from "./channel-check.js";
export { publishRelease } from "./publish.js";
export type { PublishOptions, PublishResult } from "./publish.js";
export { compareSemver, parseSemver } from "./semver.js";
export type { SemVer } from "./semver.js";
