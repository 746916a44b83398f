import { e2eImage } from "./node-image.js";

/**
 * Runs once before any e2e file: builds (or checks) the shared e2e image, so
 * files that run in parallel workers all find it fresh instead of racing to
 * build the same dist/e2e.
 */
export default function setup(): void {
  const { image, built, seconds } = e2eImage();
  console.log(`e2e image ${image.raw}: ${built ? "built" : "up to date"} in ${seconds.toFixed(1)} s`);
}
