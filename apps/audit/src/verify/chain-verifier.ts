import type { AuditVerifyProblem, AuditVerifyReply } from '@vivified/contracts';

import { GENESIS_HASH, rowHash } from '../chain/chain-hash';
import { checkpointSignatureValid } from '../chain/checkpoint-signer';
import type { CheckpointRow, DroppedPartition, SigningKeyRow, StoredRow } from '../store/audit.repository';

/** What the verifier reads; the repository, in the service and in the CLI. */
export interface ChainSource {
  rowsInOrder(after: number, to: number, limit: number): Promise<StoredRow[]>;
  rowAt(seq: number): Promise<StoredRow | undefined>;
  seqRange(): Promise<{ min: number; max: number; count: number }>;
  checkpoints(): Promise<CheckpointRow[]>;
  signingKeys(): Promise<SigningKeyRow[]>;
}

const PAGE = 5_000;

/**
 * Checks the hash chain over a seq range and every signed checkpoint, and names the first broken row: an edited
 * row (`hash_mismatch`), a deleted one (`seq_gap` at the row after it), an inserted one (`seq_duplicate`, or a
 * `prev_hash_mismatch`), reordered rows (their hashes cover their seq), a chain rewritten after a checkpoint
 * (`checkpoint_mismatch`), a forged or re-signed checkpoint (`signature_invalid`, `prev_signature_mismatch`).
 */
export async function verifyChain(
  source: ChainSource,
  range: { fromSeq?: number; toSeq?: number } = {},
): Promise<AuditVerifyReply> {
  const stored = await source.seqRange();
  const checkpoints = await source.checkpoints();
  const keys = new Map((await source.signingKeys()).map((key) => [key.id, key.publicKey]));
  const dropped = new Map<number, DroppedPartition>();
  for (const checkpoint of checkpoints) {
    for (const partition of checkpoint.dropped) {
      if (partition.rows > 0) {
        dropped.set(partition.seqTo, partition);
      }
    }
  }
  // the first row kept is the one after the last partition retention dropped: a missing first row shows
  const fromSeq = range.fromSeq ?? Math.max(0, ...dropped.keys()) + 1;
  // a deleted tail still shows: the last checkpoint names a seq the rows must reach
  const toSeq = range.toSeq ?? Math.max(stored.max, checkpoints.at(-1)?.seqTo ?? 0);

  const checkpointProblem = verifyCheckpoints(checkpoints, keys);
  // only checkpoints before the first broken one vouch for rows
  const trusted = checkpoints.filter(
    (checkpoint) => !checkpointProblem || checkpoint.n < checkpointProblem.seq,
  );
  const expectedAt = new Map(trusted.map((checkpoint) => [checkpoint.seqTo, checkpoint]));

  let rowProblem: AuditVerifyProblem | undefined;
  let rowsChecked = 0;
  let anchor: string | undefined;
  if (fromSeq === 1) {
    anchor = GENESIS_HASH;
  } else {
    anchor = (await source.rowAt(fromSeq - 1))?.hash ?? dropped.get(fromSeq - 1)?.lastHash ?? undefined;
  }
  let expectedSeq = fromSeq;
  let lastGoodCheckpoint = 0;
  let after = fromSeq - 1;
  let checkpointMismatch: AuditVerifyProblem | undefined;
  pages: while (after < toSeq) {
    const rows = await source.rowsInOrder(after, toSeq, PAGE);
    if (rows.length === 0) {
      break;
    }
    for (const row of rows) {
      rowsChecked++;
      const problem = checkRow(row, expectedSeq, anchor);
      if (problem) {
        rowProblem = problem;
        break pages;
      }
      anchor = row.hash;
      expectedSeq = row.seq + 1;
      const checkpoint = expectedAt.get(row.seq);
      if (checkpoint) {
        if (checkpoint.headHash !== row.hash) {
          // every row verified locally: the chain was rewritten from after the last matching checkpoint
          checkpointMismatch = { seq: checkpoint.n, reason: 'checkpoint_mismatch' };
          rowProblem = { seq: lastGoodCheckpoint + 1, reason: 'chain_rewritten_after_checkpoint' };
          break pages;
        }
        lastGoodCheckpoint = row.seq;
      }
    }
    after = rows[rows.length - 1]?.seq ?? toSeq;
  }
  if (!rowProblem && expectedSeq <= toSeq && (rowsChecked > 0 || toSeq >= fromSeq)) {
    rowProblem = { seq: expectedSeq, reason: 'seq_gap' };
  }
  const firstBrokenCheckpoint =
    checkpointMismatch && (!checkpointProblem || checkpointMismatch.seq < checkpointProblem.seq)
      ? checkpointMismatch
      : checkpointProblem;

  return {
    ok: !rowProblem && !firstBrokenCheckpoint,
    fromSeq,
    toSeq,
    rowsChecked,
    checkpointsChecked: checkpoints.length,
    ...(rowProblem ? { firstBrokenRow: rowProblem } : {}),
    ...(firstBrokenCheckpoint ? { firstBrokenCheckpoint } : {}),
    verifiedAt: new Date().toISOString(),
  };
}

function checkRow(
  row: StoredRow,
  expectedSeq: number,
  anchor: string | undefined,
): AuditVerifyProblem | undefined {
  if (row.seq < expectedSeq) {
    return { seq: row.seq, id: row.id, reason: 'seq_duplicate' };
  }
  if (row.seq > expectedSeq) {
    return { seq: row.seq, id: row.id, reason: `seq_gap: ${expectedSeq}..${row.seq - 1} missing` };
  }
  if (anchor !== undefined && row.prevHash !== anchor) {
    return { seq: row.seq, id: row.id, reason: 'prev_hash_mismatch' };
  }
  const { prevHash, hash, ...fields } = row;
  if (rowHash(fields, prevHash) !== hash) {
    return { seq: row.seq, id: row.id, reason: 'hash_mismatch' };
  }

  return undefined;
}

function verifyCheckpoints(
  checkpoints: readonly CheckpointRow[],
  keys: ReadonlyMap<string, string>,
): AuditVerifyProblem | undefined {
  let prevSignature = '';
  let expectedN = 1;
  for (const checkpoint of checkpoints) {
    if (checkpoint.n !== expectedN) {
      return { seq: checkpoint.n, reason: `checkpoint_gap: ${expectedN} missing` };
    }
    if (!checkpointSignatureValid(checkpoint, keys)) {
      return { seq: checkpoint.n, reason: 'signature_invalid' };
    }
    if (checkpoint.prevSignature !== prevSignature) {
      return { seq: checkpoint.n, reason: 'prev_signature_mismatch' };
    }
    prevSignature = checkpoint.signature;
    expectedN++;
  }

  return undefined;
}
