import type { KeyObject } from 'node:crypto';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

import type { CBORType } from '@levischuck/tiny-cbor';
import { encodeCBOR } from '@levischuck/tiny-cbor';
import type {
  PasskeyAuthenticationCredential,
  PasskeyCreationOptionsJson,
  PasskeyRegistrationCredential,
  PasskeyRequestOptionsJson,
} from '@vivified/contracts';

/** Authenticator-data flags (WebAuthn §6.1). */
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

/** COSE: kty EC2, alg ES256, crv P-256 (RFC 9053). */
const COSE_KTY = 1;
const COSE_ALG = 3;
const COSE_CRV = -1;
const COSE_X = -2;
const COSE_Y = -3;
const COSE_KTY_EC2 = 2;
const COSE_ALG_ES256 = -7;
const COSE_CRV_P256 = 1;

/** A passkey the software authenticator holds. */
export interface SoftwareCredential {
  /** Credential id, base64url. */
  readonly id: string;
  readonly rpId: string;
  /** The user handle it was created for, base64url. */
  readonly userHandle: string;
  readonly privateKey: KeyObject;
  /** Counter of the last signature. */
  signCount: number;
}

/** Options of {@link SoftwareAuthenticator}. */
export interface SoftwareAuthenticatorOptions {
  /** The origin the "browser" puts in client data. */
  origin: string;
  /** AAGUID, 16 bytes. @default all zeros */
  aaguid?: Buffer;
  /** Whether signatures carry an increasing counter; many synced passkeys always report 0. @default true */
  countsSignatures?: boolean;
}

/** What a test may change in one ceremony to play an attacker or a broken authenticator. */
export interface CeremonyOverrides {
  /** Client-data origin (a phishing site). */
  origin?: string;
  /** Whether the UV flag is set. @default true */
  userVerified?: boolean;
}

/** Overrides of one assertion. */
export interface AssertionOverrides extends CeremonyOverrides {
  /** Sign with this credential instead of the first one the options allow. */
  credentialId?: string;
  /** Counter to report instead of the next one (a cloned authenticator). */
  signCount?: number;
  /** Leave out the user handle, as a non-discoverable credential does. @default false */
  omitUserHandle?: boolean;
}

function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest();
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);

  return buffer;
}

function uint16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);

  return buffer;
}

function clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
}

/**
 * A WebAuthn authenticator and "browser" in software: ES256 (P-256) keys from node:crypto, `none` attestation,
 * real signatures over `authenticatorData || sha256(clientDataJSON)` (DER, as WebAuthn requires). Its credentials
 * are discoverable (they keep the user handle), so it serves usernameless logins too.
 */
export class SoftwareAuthenticator {
  private readonly credentials = new Map<string, SoftwareCredential>();
  private readonly aaguid: Buffer;

  constructor(private readonly options: SoftwareAuthenticatorOptions) {
    this.aaguid = options.aaguid ?? Buffer.alloc(16);
  }

  /** The credentials held, oldest first. */
  get held(): SoftwareCredential[] {
    return [...this.credentials.values()];
  }

  /** `navigator.credentials.create()`: makes a key pair and answers the registration response JSON. */
  create(
    publicKey: PasskeyCreationOptionsJson,
    overrides: CeremonyOverrides = {},
  ): PasskeyRegistrationCredential {
    const rpId = publicKey.rp.id;
    if (!rpId) {
      throw new Error('options carry no rp.id');
    }
    if (!publicKey.pubKeyCredParams.some((param) => param.alg === COSE_ALG_ES256)) {
      throw new Error('the relying party does not accept ES256');
    }
    if (publicKey.excludeCredentials?.some((excluded) => this.credentials.has(excluded.id))) {
      throw new Error('InvalidStateError: this authenticator already holds an excluded credential');
    }
    const { privateKey, publicKey: keyPublic } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = keyPublic.export({ format: 'jwk' });
    const cose = encodeCBOR(
      new Map<number, CBORType>([
        [COSE_KTY, COSE_KTY_EC2],
        [COSE_ALG, COSE_ALG_ES256],
        [COSE_CRV, COSE_CRV_P256],
        [COSE_X, Buffer.from(jwk.x as string, 'base64url')],
        [COSE_Y, Buffer.from(jwk.y as string, 'base64url')],
      ]),
    );
    const rawId = randomBytes(32);
    const id = rawId.toString('base64url');
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([FLAG_UP | FLAG_AT | (overrides.userVerified === false ? 0 : FLAG_UV)]),
      uint32(0),
      this.aaguid,
      uint16(rawId.length),
      rawId,
      Buffer.from(cose),
    ]);
    const attestationObject = encodeCBOR(
      new Map<string, CBORType>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, CBORType>()],
        ['authData', authData],
      ]),
    );
    this.credentials.set(id, { id, rpId, userHandle: publicKey.user.id, privateKey, signCount: 0 });

    return {
      id,
      rawId: id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientData(
          'webauthn.create',
          publicKey.challenge,
          overrides.origin ?? this.options.origin,
        ).toString('base64url'),
        attestationObject: Buffer.from(attestationObject).toString('base64url'),
        transports: ['internal', 'hybrid'],
      },
    };
  }

  /** `navigator.credentials.get()`: signs the challenge with a held credential and answers the assertion JSON. */
  get(
    publicKey: PasskeyRequestOptionsJson,
    overrides: AssertionOverrides = {},
  ): PasskeyAuthenticationCredential {
    const credential = this.pick(publicKey, overrides.credentialId);
    credential.signCount =
      overrides.signCount ?? (this.options.countsSignatures === false ? 0 : credential.signCount + 1);
    const clientDataJSON = clientData(
      'webauthn.get',
      publicKey.challenge,
      overrides.origin ?? this.options.origin,
    );
    const authenticatorData = Buffer.concat([
      sha256(credential.rpId),
      Buffer.from([FLAG_UP | (overrides.userVerified === false ? 0 : FLAG_UV)]),
      uint32(credential.signCount),
    ]);
    const signature = sign(
      'sha256',
      Buffer.concat([authenticatorData, sha256(clientDataJSON)]),
      credential.privateKey,
    );

    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authenticatorData.toString('base64url'),
        signature: signature.toString('base64url'),
        ...(overrides.omitUserHandle ? {} : { userHandle: credential.userHandle }),
      },
    };
  }

  private pick(publicKey: PasskeyRequestOptionsJson, credentialId?: string): SoftwareCredential {
    const rpId = publicKey.rpId;
    const allowed = publicKey.allowCredentials?.map((descriptor) => descriptor.id);
    const candidates = this.held.filter(
      (credential) =>
        (rpId === undefined || credential.rpId === rpId) &&
        (credentialId === undefined || credential.id === credentialId) &&
        // a test may force a credential the options do not allow, to play a mismatched login
        (allowed === undefined || credentialId !== undefined || allowed.includes(credential.id)),
    );
    const chosen = candidates[0];
    if (!chosen) {
      throw new Error('NotAllowedError: no credential of this authenticator matches the options');
    }

    return chosen;
  }
}
