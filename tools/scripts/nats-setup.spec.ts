import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { Account, Operator, User } from '@nats-io/jwt';
import { decode } from '@nats-io/jwt';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = join(__dirname, 'nats-setup.mjs');

describe('nats-setup.mjs', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const setup = async (...args: string[]) => {
    const dir = await mkdtemp(join(tmpdir(), 'vivified-nats-setup-'));
    dirs.push(dir);
    const out = join(dir, 'nats');
    const { stdout } = await run(process.execPath, [script, '--out', out, '--json', ...args]);

    return { out, summary: JSON.parse(stdout) as Record<string, string> };
  };
  const read = (out: string, name: string) => readFile(join(out, name), 'utf8');

  it('writes the operator, both accounts and the users, signed by the signing keys, secrets 0600 in a 0700 folder', async () => {
    const { out, summary } = await setup();

    expect((await stat(out)).mode & 0o777).toBe(0o700);
    for (const name of [
      'operator.nk',
      'account-signing.nk',
      'operator-signing.nk',
      'service.creds',
      'registry.env',
    ]) {
      expect((await stat(join(out, name))).mode & 0o777).toBe(0o600);
    }
    const operator = decode<Operator>((await read(out, 'operator.jwt')).trim());
    expect(operator.sub).toBe(summary['operatorPublicKey']);
    expect(operator.nats.signing_keys).toEqual([summary['operatorSigningPublicKey']]);
    expect(operator.nats.system_account).toBe(summary['systemAccountPublicKey']);
    const account = decode<Account>((await read(out, 'account.jwt')).trim());
    expect(account.iss).toBe(summary['operatorSigningPublicKey']);
    expect(account.nats.signing_keys).toEqual([summary['accountSigningPublicKey']]);
    expect(account.nats.limits).toMatchObject({ disk_storage: -1, mem_storage: -1, conn: -1 });
    const service = decode<User>(
      /-----BEGIN NATS USER JWT-----\n(.+)\n/.exec(await read(out, 'service.creds'))?.[1] ?? '',
    );
    expect(service.iss).toBe(summary['accountSigningPublicKey']);
    expect(service.nats.issuer_account).toBe(summary['accountPublicKey']);
    const system = decode<User>(
      /-----BEGIN NATS USER JWT-----\n(.+)\n/.exec(await read(out, 'registry-system.creds'))?.[1] ?? '',
    );
    expect(system.iss).toBe(summary['systemAccountPublicKey']);
    expect(system.nats.pub?.allow).toEqual(['$SYS.REQ.CLAIMS.UPDATE', '$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP']);
  });

  it('writes a server config with the full resolver and registry variables that match the keys', async () => {
    const { out, summary } = await setup('--listen', '127.0.0.1:4333', '--creds-dir', '/run/secrets');
    const config = await read(out, 'nats-server.conf');
    const env = await read(out, 'registry.env');

    expect(config).toContain('listen: "127.0.0.1:4333"');
    expect(config).toMatch(/resolver \{\n\s+type: full\n\s+dir: ".+\/jwt"\n\s+allow_delete: false/);
    expect(config).toContain(`system_account: ${summary['systemAccountPublicKey']}`);
    expect(config).toContain(`store_dir: "${join(out, 'jetstream')}"`);
    expect(env).toContain(`VIVIFIED_NATS_ACCOUNT_PUBLIC_KEY=${summary['accountPublicKey']}`);
    expect(env).toContain(
      `VIVIFIED_NATS_ACCOUNT_SIGNING_SEED=${(await read(out, 'account-signing.nk')).trim()}`,
    );
    expect(env).toContain(
      `VIVIFIED_NATS_OPERATOR_SIGNING_SEED=${(await read(out, 'operator-signing.nk')).trim()}`,
    );
    expect(env).toContain('VIVIFIED_NATS_CREDS=/run/secrets/service.creds');
    expect(env).toContain('VIVIFIED_NATS_SYSTEM_CREDS=/run/secrets/registry-system.creds');
    // the JSON summary names public keys and paths only
    expect(JSON.stringify(summary)).not.toMatch(/"S[AOU][A-Z2-7]{56}"/);
  });

  it('leaves the store folder to the command line with --store-dir -', async () => {
    const { out } = await setup('--store-dir', '-');

    expect(await read(out, 'nats-server.conf')).toContain('jetstream: enabled');
  });

  it('refuses to replace an existing setup without --force', async () => {
    const { out } = await setup();
    const before = await read(out, 'operator.jwt');

    await expect(run(process.execPath, [script, '--out', out])).rejects.toThrow(/already holds a setup/);
    expect(await read(out, 'operator.jwt')).toBe(before);
    await run(process.execPath, [script, '--out', out, '--force']);
    expect(await read(out, 'operator.jwt')).not.toBe(before);
  });
});
