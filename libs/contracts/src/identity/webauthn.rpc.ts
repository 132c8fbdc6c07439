import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsIP,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

import type { Access } from '../rpc';
import { defineRpc, PUBLIC } from '../rpc';
import { subjects } from '../subjects';
import { SessionOrPasswordChangeReply } from './accounts.rpc';

/** Unpadded base64url, as WebAuthn's JSON encodings use (padding tolerated). */
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Who may manage passkeys: a signed-in user, for their own passkeys only. */
const MANAGE: Access = { action: 'identity.webauthn.manage', kinds: ['user'] };

/** A credential named in options (`PublicKeyCredentialDescriptorJSON`). */
export interface PasskeyDescriptorJson {
  /** Credential id, base64url. */
  id: string;
  /** `public-key`. */
  type: string;
  transports?: string[];
}

/**
 * The options a browser passes to `navigator.credentials.create()` (WebAuthn L3
 * `PublicKeyCredentialCreationOptionsJSON`); binary fields are base64url.
 */
export interface PasskeyCreationOptionsJson {
  /** The relying party: `id` is the RP id (host name), `name` is shown by authenticators. */
  rp: { id?: string; name: string };
  /** The user: `id` is the opaque user handle (base64url), never personal data. */
  user: { id: string; name: string; displayName: string };
  /** Random challenge, base64url; single use, stored server-side for 5 minutes. */
  challenge: string;
  /** Accepted COSE algorithms, preferred first. */
  pubKeyCredParams: { alg: number; type: string }[];
  /** Milliseconds the browser lets the user take. */
  timeout?: number;
  /** The user's existing passkeys, so the same authenticator is not registered twice. */
  excludeCredentials?: PasskeyDescriptorJson[];
  /** Resident-key and user-verification requirements (`userVerification` is always `required`). */
  authenticatorSelection?: {
    authenticatorAttachment?: string;
    requireResidentKey?: boolean;
    residentKey?: string;
    userVerification?: string;
  };
  hints?: string[];
  /** Attestation conveyance (`none`). */
  attestation?: string;
  attestationFormats?: string[];
  extensions?: object;
}

/**
 * The options a browser passes to `navigator.credentials.get()` (WebAuthn L3
 * `PublicKeyCredentialRequestOptionsJSON`); binary fields are base64url.
 */
export interface PasskeyRequestOptionsJson {
  /** Random challenge, base64url; single use, stored server-side for 5 minutes. */
  challenge: string;
  /** Milliseconds the browser lets the user take. */
  timeout?: number;
  /** The relying-party id. */
  rpId?: string;
  /** Absent for a usernameless (discoverable-credential) login. */
  allowCredentials?: PasskeyDescriptorJson[];
  /** Always `required`: a passkey login is a multi-factor login. */
  userVerification?: string;
  hints?: string[];
  extensions?: object;
}

/** Request of `identity.webauthn.register-options`: no fields (the caller is the user). */
export class PasskeyRegisterOptionsRequest {}

/** Reply of `identity.webauthn.register-options`. */
export class PasskeyRegisterOptionsReply {
  /** Names the stored challenge; send it back with the authenticator's response. */
  @IsUUID()
  ceremonyId!: string;

  /** For `navigator.credentials.create({ publicKey })` (after decoding the base64url fields). */
  @IsObject()
  publicKey!: PasskeyCreationOptionsJson;
}

/** `response` of a registration credential (WebAuthn L3 `AuthenticatorAttestationResponseJSON`). */
export class PasskeyAttestationResponse {
  /** base64url of the client data JSON. */
  @IsString()
  @Matches(BASE64URL)
  @MaxLength(8_192)
  clientDataJSON!: string;

  /** base64url of the CBOR attestation object. */
  @IsString()
  @Matches(BASE64URL)
  @MaxLength(65_536)
  attestationObject!: string;

  /** base64url of the authenticator data (informative; the attestation object is authoritative). */
  @IsOptional()
  @IsString()
  @Matches(BASE64URL)
  @MaxLength(16_384)
  authenticatorData?: string;

  /** Transports the browser reports for the new credential. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @MaxLength(32, { each: true })
  transports?: string[];

  /** COSE algorithm of the new key (informative). */
  @IsOptional()
  @IsInt()
  publicKeyAlgorithm?: number;

  /** base64url SPKI of the new key (informative). */
  @IsOptional()
  @IsString()
  @Matches(BASE64URL)
  @MaxLength(16_384)
  publicKey?: string;
}

/** What `navigator.credentials.create()` answered, as JSON (WebAuthn L3 `RegistrationResponseJSON`). */
export class PasskeyRegistrationCredential {
  /** Credential id, base64url. */
  @IsString()
  @Matches(BASE64URL)
  @MinLength(1)
  @MaxLength(1_400)
  id!: string;

  /** Same as `id`. */
  @IsString()
  @Matches(BASE64URL)
  @MinLength(1)
  @MaxLength(1_400)
  rawId!: string;

  @ValidateNested()
  @Type(() => PasskeyAttestationResponse)
  response!: PasskeyAttestationResponse;

  @IsOptional()
  @IsIn(['platform', 'cross-platform'])
  authenticatorAttachment?: 'platform' | 'cross-platform';

  /** Client extension outputs (`credProps`, …). */
  @IsObject()
  clientExtensionResults!: Record<string, unknown>;

  /** `public-key`. */
  @IsIn(['public-key'])
  type!: 'public-key';
}

/** Request of `identity.webauthn.register-verify`. */
export class PasskeyRegisterVerifyRequest {
  /** The `ceremonyId` of the register-options reply; each is accepted once, within 5 minutes. */
  @IsUUID()
  ceremonyId!: string;

  @ValidateNested()
  @Type(() => PasskeyRegistrationCredential)
  credential!: PasskeyRegistrationCredential;

  /**
   * A name the user gives the passkey (`Work laptop`).
   * @default "Passkey"
   */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  label?: string;
}

/** One of the caller's passkeys; no key material. */
export class PasskeySummary {
  /** Id of the passkey in identity (not the authenticator's credential id). */
  @IsUUID()
  id!: string;

  @IsString()
  label!: string;

  /** Authenticator model (AAGUID; all zeros when the authenticator does not say). */
  @IsString()
  aaguid!: string;

  /** `multiDevice` for a synced passkey, `singleDevice` for one bound to its authenticator. */
  @IsIn(['singleDevice', 'multiDevice'])
  deviceType!: 'singleDevice' | 'multiDevice';

  /** Whether a synced passkey is backed up. */
  @IsBoolean()
  backedUp!: boolean;

  /** Transports the browser reported at registration. */
  @IsString({ each: true })
  transports!: string[];

  /** ISO 8601. */
  @IsISO8601()
  createdAt!: string;

  /** Last successful login with it (ISO 8601). */
  @IsOptional()
  @IsISO8601()
  lastUsedAt?: string;
}

/** Request of `identity.webauthn.login-options`. */
export class PasskeyLoginOptionsRequest {
  /**
   * Username (any case; compared lower-cased), to list its passkeys in `allowCredentials`; leave it out for a usernameless login with a
   * discoverable passkey. An unknown username gets options of the same shape (no enumeration).
   */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  username?: string;
}

/** Reply of `identity.webauthn.login-options`. */
export class PasskeyLoginOptionsReply {
  /** Names the stored challenge; send it back with the assertion. */
  @IsUUID()
  ceremonyId!: string;

  /** For `navigator.credentials.get({ publicKey })` (after decoding the base64url fields). */
  @IsObject()
  publicKey!: PasskeyRequestOptionsJson;
}

/** `response` of an assertion (WebAuthn L3 `AuthenticatorAssertionResponseJSON`). */
export class PasskeyAssertionResponse {
  /** base64url of the client data JSON. */
  @IsString()
  @Matches(BASE64URL)
  @MaxLength(8_192)
  clientDataJSON!: string;

  /** base64url of the authenticator data. */
  @IsString()
  @Matches(BASE64URL)
  @MaxLength(16_384)
  authenticatorData!: string;

  /** base64url of the signature. */
  @IsString()
  @Matches(BASE64URL)
  @MaxLength(4_096)
  signature!: string;

  /** base64url of the user handle a discoverable passkey stores. */
  @IsOptional()
  @IsString()
  @Matches(BASE64URL)
  @MaxLength(128)
  userHandle?: string;
}

/** What `navigator.credentials.get()` answered, as JSON (WebAuthn L3 `AuthenticationResponseJSON`). */
export class PasskeyAuthenticationCredential {
  /** Credential id, base64url. */
  @IsString()
  @Matches(BASE64URL)
  @MinLength(1)
  @MaxLength(1_400)
  id!: string;

  /** Same as `id`. */
  @IsString()
  @Matches(BASE64URL)
  @MinLength(1)
  @MaxLength(1_400)
  rawId!: string;

  @ValidateNested()
  @Type(() => PasskeyAssertionResponse)
  response!: PasskeyAssertionResponse;

  @IsOptional()
  @IsIn(['platform', 'cross-platform'])
  authenticatorAttachment?: 'platform' | 'cross-platform';

  /** Client extension outputs. */
  @IsObject()
  clientExtensionResults!: Record<string, unknown>;

  /** `public-key`. */
  @IsIn(['public-key'])
  type!: 'public-key';
}

/** Request of `identity.webauthn.login-verify`. */
export class PasskeyLoginVerifyRequest {
  /** The `ceremonyId` of the login-options reply; each is accepted once, within 5 minutes. */
  @IsUUID()
  ceremonyId!: string;

  @ValidateNested()
  @Type(() => PasskeyAuthenticationCredential)
  credential!: PasskeyAuthenticationCredential;

  /** Client address as the gateway saw it, for the session and the audit trail. Filled by the gateway. */
  @IsOptional()
  @IsIP()
  ip?: string;

  /** Client user agent, for the session record. Filled by the gateway. */
  @IsOptional()
  @IsString()
  @MaxLength(1_000)
  userAgent?: string;
}

/**
 * Reply of `identity.webauthn.login-verify`: the session's tokens, or — for an account that must change its
 * password (a one-time password) — `{passwordChangeRequired: true, passwordChangeToken}` and no tokens, as the
 * password login answers.
 */
export const PasskeyLoginReply = SessionOrPasswordChangeReply;
export type PasskeyLoginReply = SessionOrPasswordChangeReply;

/** Request of `identity.webauthn.credential-list`: no fields (the caller's own passkeys). */
export class PasskeyListRequest {}

/** Reply of `identity.webauthn.credential-list`. */
export class PasskeyList {
  /** Oldest first. */
  @ValidateNested({ each: true })
  @Type(() => PasskeySummary)
  credentials!: PasskeySummary[];
}

/** Request of `identity.webauthn.credential-remove`. */
export class PasskeyRemoveRequest {
  /** {@link PasskeySummary.id} of one of the caller's passkeys. */
  @IsUUID()
  id!: string;
}

/**
 * Reply of `identity.webauthn.credential-remove`. A removed passkey must not leave an older session standing: every
 * session of the user has ended and every access token issued before is refused (the caller's own included), so it
 * signs in again, as after a password change.
 */
export class PasskeyRemoveReply {
  /** The removed passkey's id. */
  @IsUUID()
  id!: string;

  /** How many sessions ended (all of the user's, including the one that asked). */
  @IsInt()
  @Min(0)
  sessionsEnded!: number;
}

/**
 * Request/reply contracts of identity's passkeys: WebAuthn registration and login ceremonies, credential list
 * and removal (ARCHITECTURE §7).
 */
export const webauthnContracts = {
  [subjects.identity.webauthn.registerOptions]: defineRpc({
    subject: subjects.identity.webauthn.registerOptions,
    request: PasskeyRegisterOptionsRequest,
    reply: PasskeyRegisterOptionsReply,
    access: MANAGE,
    summary: 'Registration options and a stored challenge for a new passkey of the caller.',
  }),
  [subjects.identity.webauthn.registerVerify]: defineRpc({
    subject: subjects.identity.webauthn.registerVerify,
    request: PasskeyRegisterVerifyRequest,
    reply: PasskeySummary,
    access: MANAGE,
    summary: "Verifies a registration response (user verification required) and stores the caller's passkey.",
  }),
  [subjects.identity.webauthn.loginOptions]: defineRpc({
    subject: subjects.identity.webauthn.loginOptions,
    request: PasskeyLoginOptionsRequest,
    reply: PasskeyLoginOptionsReply,
    access: PUBLIC,
    summary: 'Authentication options and a stored challenge for a passkey login, with or without a username.',
  }),
  [subjects.identity.webauthn.loginVerify]: defineRpc({
    subject: subjects.identity.webauthn.loginVerify,
    request: PasskeyLoginVerifyRequest,
    reply: PasskeyLoginReply,
    access: PUBLIC,
    summary: 'Verifies a passkey assertion (user verification, sign counter) and answers tokens.',
  }),
  [subjects.identity.webauthn.listCredentials]: defineRpc({
    subject: subjects.identity.webauthn.listCredentials,
    request: PasskeyListRequest,
    reply: PasskeyList,
    access: MANAGE,
    summary: "The caller's passkeys.",
  }),
  [subjects.identity.webauthn.removeCredential]: defineRpc({
    subject: subjects.identity.webauthn.removeCredential,
    request: PasskeyRemoveRequest,
    reply: PasskeyRemoveReply,
    access: MANAGE,
    summary: "Removes one of the caller's passkeys; every session of the user ends.",
  }),
} as const;
