import { randomUUID } from 'node:crypto';

import { tokenContract } from '@vivified/contracts';
import { KeyedHasher, randomToken } from '@vivified/crypto';
import type { CryptoKey } from 'jose';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT } from 'jose';

import { latencyStats } from './stats';

/**
 * Identity's token costs on this machine: EdDSA (Ed25519) signing and verification with jose, as identity signs
 * and every service verifies, and the keyed hash of a refresh token (each refresh computes two). Logins (argon2id)
 * are the accounts half's benchmark. Run: `node tools/bench/dist/identity-bench.js` after `npm run build`.
 */
const DURATION_MS = Number(process.env['BENCH_IDENTITY_MS'] ?? 2_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

interface Row {
  name: string;
  rate: number;
  p50: number;
  p99: number;
}

async function measure(name: string, op: (i: number) => unknown): Promise<Row> {
  // warm up: JIT and key import caches
  for (let i = 0; i < 200; i += 1) {
    await op(i);
  }
  const samples: bigint[] = [];
  const deadline = Date.now() + DURATION_MS;
  const started = process.hrtime.bigint();
  let done = 0;
  while (Date.now() < deadline) {
    const start = process.hrtime.bigint();
    await op(done);
    samples.push(process.hrtime.bigint() - start);
    done += 1;
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const stats = latencyStats(samples);

  return { name, rate: done / elapsed, p50: stats.p50, p99: stats.p99 };
}

function sign(privateKey: CryptoKey, kid: string): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);

  return new SignJWT({
    typ: 'user',
    traits: ['viewer', 'audit_viewer', 'plugin_manager', 'ui.dashboard'],
    roles: ['operator'],
    sid: randomUUID(),
  })
    .setProtectedHeader({ alg: tokenContract.algorithm, kid, typ: 'JWT' })
    .setIssuer(tokenContract.issuer)
    .setAudience(tokenContract.audience)
    .setSubject(`user:${randomUUID()}`)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + tokenContract.lifetimes.userAccess)
    .sign(privateKey);
}

async function round(): Promise<Row[]> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  // verifiers import the public key from its JWK, as libs/auth does from the JWKS bucket
  const verifyKey = await importJWK({ ...(await exportJWK(publicKey)), alg: 'EdDSA' }, 'EdDSA');
  const kid = 'bench';
  const tokens = await Promise.all(Array.from({ length: 1_000 }, () => sign(privateKey, kid)));
  const hasher = new KeyedHasher(Buffer.alloc(32, 7));
  const refreshTokens = Array.from({ length: 1_000 }, () => randomToken(32));

  return [
    await measure('sign access token (EdDSA)', () => sign(privateKey, kid)),
    await measure('verify access token (EdDSA)', (i) =>
      jwtVerify(tokens[i % tokens.length] ?? '', verifyKey, {
        algorithms: [tokenContract.algorithm],
        issuer: tokenContract.issuer,
        audience: tokenContract.audience,
      }),
    ),
    await measure('keyed hash of a refresh token', (i) =>
      hasher.hash(refreshTokens[i % refreshTokens.length] ?? ''),
    ),
  ];
}

async function main(): Promise<void> {
  console.log(
    `Vivified identity token benchmark — node ${process.version}, ${ROUNDS} rounds of ${DURATION_MS} ms`,
  );
  const rounds: Row[][] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    rounds.push(await round());
  }
  // the median round of each operation, by rate
  const names = rounds[0]?.map((row) => row.name) ?? [];
  console.log(
    `\n${'operation'.padEnd(32)} ${'ops/s'.padStart(9)} ${'p50 µs'.padStart(9)} ${'p99 µs'.padStart(9)}`,
  );
  for (const [index, name] of names.entries()) {
    const rows = rounds.map((result) => result[index]).filter((row): row is Row => row !== undefined);
    rows.sort((a, b) => a.rate - b.rate);
    const median = rows[Math.floor(rows.length / 2)];
    if (median) {
      console.log(
        `${name.padEnd(32)} ${Math.round(median.rate).toString().padStart(9)} ${median.p50.toFixed(1).padStart(9)} ${median.p99.toFixed(1).padStart(9)}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
