import { CairnError } from "../errors/index.js";

/** How far notBefore is moved into the past, so nodes with a slightly slow clock accept a fresh cert. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Inputs for a validity window: a length in days, or explicit bounds (tests use them to mint expired certs). */
export interface ValidityOptions {
  validityDays?: number | undefined;
  notBefore?: Date | undefined;
  notAfter?: Date | undefined;
}

/**
 * Resolves a certificate's validity window. notBefore defaults to now minus
 * CLOCK_SKEW_MS and notAfter to now plus the days, so the skew allowance does
 * not eat into the advertised lifetime. Rejects empty or inverted windows
 * instead of minting a cert nobody can use.
 */
export function resolveValidity(opts: ValidityOptions, defaultDays: number, now: Date = new Date()): { notBefore: Date; notAfter: Date } {
  const days = opts.validityDays ?? defaultDays;
  if (!Number.isFinite(days) || days <= 0) {
    throw new CairnError("INVALID_ARGUMENT", `validityDays must be a positive number, got ${days}`);
  }
  const notBefore = opts.notBefore ?? new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = opts.notAfter ?? new Date(now.getTime() + days * DAY_MS);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    throw new CairnError("INVALID_ARGUMENT", "notBefore and notAfter must be valid dates");
  }
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new CairnError("INVALID_ARGUMENT", "notAfter must be later than notBefore");
  }
  return { notBefore, notAfter };
}
