/** Tunables of the passkey ceremonies; tests provide {@link WEBAUTHN_OPTIONS} to shorten or move time. */
export interface WebauthnOptions {
  /** How long a ceremony challenge stays valid, in milliseconds. */
  challengeTtlMs: number;
  /** The current time. */
  now(): Date;
}

/** Injection token of optional {@link WebauthnOptions}; without it {@link defaultWebauthnOptions} apply. */
export const WEBAUTHN_OPTIONS = Symbol('WEBAUTHN_OPTIONS');

/** 5-minute challenges on real time. */
export const defaultWebauthnOptions: WebauthnOptions = {
  challengeTtlMs: 5 * 60_000,
  now: () => new Date(),
};
