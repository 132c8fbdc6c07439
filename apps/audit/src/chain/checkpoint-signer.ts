import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  verify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { EnvelopeCipher } from '@vivified/crypto';

import type { CheckpointRow, SigningKeyRow } from '../store/audit.repository';
import { AuditRepository } from '../store/audit.repository';
import { canonicalJson } from './chain-hash';

/** What a checkpoint's signature covers (every field but the signature). */
export function checkpointPayload(checkpoint: Omit<CheckpointRow, 'signature'>): string {
  return canonicalJson({
    n: checkpoint.n,
    seqTo: checkpoint.seqTo,
    headHash: checkpoint.headHash,
    prevSignature: checkpoint.prevSignature,
    dropped: checkpoint.dropped,
    keyId: checkpoint.keyId,
    createdAt: checkpoint.createdAt,
  });
}

/** Whether a checkpoint's signature verifies with one of the public keys (base64 SPKI DER by key id). */
export function checkpointSignatureValid(
  checkpoint: CheckpointRow,
  publicKeys: ReadonlyMap<string, string>,
): boolean {
  const der = publicKeys.get(checkpoint.keyId);
  if (!der) {
    return false;
  }
  try {
    const key = createPublicKey({ key: Buffer.from(der, 'base64'), format: 'der', type: 'spki' });

    return verify(
      null,
      Buffer.from(checkpointPayload(checkpoint)),
      key,
      Buffer.from(checkpoint.signature, 'base64'),
    );
  } catch {
    return false;
  }
}

const aadOf = (keyId: string) => `audit.checkpoint-key:${keyId}`;

/**
 * The Ed25519 key that signs checkpoints: generated once for the deployment, its private half sealed with the
 * KEK (EnvelopeCipher) in `signing_keys`, opened in memory when the service starts.
 */
@Injectable()
export class CheckpointSigner {
  private key: { id: string; privateKey: KeyObject; createdAt: Date } | undefined;

  constructor(
    private readonly repository: AuditRepository,
    private readonly cipher: EnvelopeCipher,
  ) {}

  /** Loads the key, creating it on the first start. */
  async load(): Promise<void> {
    const row = await this.repository.signingKeyOrCreate(() => this.generate());
    const der = await this.cipher.decrypt(row.privateKeySealed, aadOf(row.id));
    this.key = {
      id: row.id,
      privateKey: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }),
      createdAt: row.createdAt,
    };
  }

  /** The signing key's id and creation time. */
  get current(): { id: string; createdAt: Date } | undefined {
    return this.key ? { id: this.key.id, createdAt: this.key.createdAt } : undefined;
  }

  /** Signs a checkpoint draft. */
  sign(draft: Omit<CheckpointRow, 'signature' | 'keyId'>): CheckpointRow {
    if (!this.key) {
      throw new Error('checkpoint key not loaded');
    }
    const unsigned = { ...draft, keyId: this.key.id };
    const signature = sign(null, Buffer.from(checkpointPayload(unsigned)), this.key.privateKey).toString(
      'base64',
    );

    return { ...unsigned, signature };
  }

  private async generate(): Promise<SigningKeyRow> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const id = `audit-${randomUUID()}`;

    return {
      id,
      publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      privateKeySealed: await this.cipher.encrypt(
        privateKey.export({ format: 'der', type: 'pkcs8' }),
        aadOf(id),
      ),
      createdAt: new Date(),
    };
  }
}
