// `node tools/scripts/nats-setup.mjs --out <dir>`: NATS production mode (decentralized JWT auth, docs/nats-auth.md).
// Creates the operator, the system account and the Vivified account (nkeys + JWTs), the users the platform
// needs, and a nats-server config that trusts them:
//   operator.nk, account.nk, system-account.nk   identity seeds: keep them offline, nothing at run time needs them
//   operator-signing.nk                          signs account JWTs: the registry pushes revocations with it
//   account-signing.nk                           signs user JWTs: the registry issues plugin users with it
//   operator.jwt, account.jwt, system-account.jwt
//   service.creds                                the core services' user (VIVIFIED_NATS_CREDS)
//   registry-system.creds                        the registry's system-account user: claims lookup and update only
//   nats-server.conf                             operator, system account, full resolver preloaded, JetStream
//   registry.env                                 the variables the core services and the registry need
// Every file is written with mode 0600 in a 0700 folder. It refuses to overwrite an existing setup without --force.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import jwtPackage from '@nats-io/jwt';

const { createAccount, createOperator, createUser, encodeAccount, encodeOperator, encodeUser, fmtCreds } =
  jwtPackage;

const usage = `Usage: node tools/scripts/nats-setup.mjs --out <dir> [options]

Creates the NATS operator, accounts, users and a nats-server config for production mode.

Options:
  --out <dir>            folder to write to (created, mode 0700)                    [.vivified/nats]
  --operator <name>      operator name                                              [vivified]
  --account <name>       name of the platform's account                             [VIVIFIED]
  --listen <host:port>   where nats-server listens                                  [0.0.0.0:4222]
  --store-dir <dir>      JetStream store folder, as nats-server sees it; - when nats-server gets it
                         on its command line (-sd)                                  [<out>/jetstream]
  --resolver-dir <dir>   account JWT folder of the full resolver, as nats-server sees it  [<out>/jwt]
  --creds-dir <dir>      where the services find the .creds files, for registry.env [<out>]
  --force                replace an existing setup (every user and JWT issued before stops working)
  --json                 print the file paths and public keys as JSON (never a seed)
  -h, --help             this text
`;

/** Account limits: no NATS limits, JetStream enabled without quotas. */
const unlimitedAccount = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
};
const unlimitedJetStream = {
  mem_storage: -1,
  disk_storage: -1,
  streams: -1,
  consumer: -1,
  max_ack_pending: -1,
  mem_max_stream_bytes: -1,
  disk_max_stream_bytes: -1,
};

const text = (bytes) => new TextDecoder().decode(bytes);

/**
 * Creates every key, JWT and creds text of a setup, without touching the disk.
 * @param {{ operatorName?: string, accountName?: string }} [options]
 */
export async function createNatsAuthSetup(options = {}) {
  const operatorName = options.operatorName ?? 'vivified';
  const accountName = options.accountName ?? 'VIVIFIED';
  const operator = createOperator();
  const operatorSigning = createOperator();
  const systemAccount = createAccount();
  const account = createAccount();
  const accountSigning = createAccount();

  const operatorJwt = await encodeOperator(operatorName, operator, {
    signing_keys: [operatorSigning.getPublicKey()],
    system_account: systemAccount.getPublicKey(),
  });
  const systemAccountJwt = await encodeAccount(
    'SYS',
    systemAccount,
    { limits: unlimitedAccount },
    { signer: operatorSigning },
  );
  const accountJwt = await encodeAccount(
    accountName,
    account,
    {
      signing_keys: [accountSigning.getPublicKey()],
      limits: { ...unlimitedAccount, ...unlimitedJetStream },
    },
    { signer: operatorSigning },
  );

  // the core services: every subject, JetStream included; no expiry (rotate by running the setup again)
  const serviceUser = createUser();
  const serviceJwt = await encodeUser(
    'vivified-services',
    serviceUser,
    account,
    {},
    { signer: accountSigning },
  );
  // the registry's system user may only look account JWTs up and push updated ones
  const registrySystemUser = createUser();
  const registrySystemJwt = await encodeUser('vivified-registry', registrySystemUser, systemAccount, {
    pub: { allow: ['$SYS.REQ.CLAIMS.UPDATE', '$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP'] },
    sub: { allow: ['_INBOX.>'] },
  });

  return {
    operator: {
      name: operatorName,
      publicKey: operator.getPublicKey(),
      seed: text(operator.getSeed()),
      signingPublicKey: operatorSigning.getPublicKey(),
      signingSeed: text(operatorSigning.getSeed()),
      jwt: operatorJwt,
    },
    systemAccount: {
      publicKey: systemAccount.getPublicKey(),
      seed: text(systemAccount.getSeed()),
      jwt: systemAccountJwt,
    },
    account: {
      name: accountName,
      publicKey: account.getPublicKey(),
      seed: text(account.getSeed()),
      signingPublicKey: accountSigning.getPublicKey(),
      signingSeed: text(accountSigning.getSeed()),
      jwt: accountJwt,
    },
    serviceCreds: text(fmtCreds(serviceJwt, serviceUser)),
    registrySystemCreds: text(fmtCreds(registrySystemJwt, registrySystemUser)),
  };
}

/**
 * The nats-server config of a setup: trusted operator, system account, a full resolver (account JWTs pushed at
 * run time are kept, revocations included) preloaded with both accounts, and JetStream.
 * @param {Awaited<ReturnType<typeof createNatsAuthSetup>>} setup
 * @param {{ listen: string, storeDir?: string, resolverDir: string }} paths
 */
export function renderServerConfig(setup, { listen, storeDir, resolverDir }) {
  return `# nats-server config written by tools/scripts/nats-setup.mjs (docs/nats-auth.md).
# Operator "${setup.operator.name}" ${setup.operator.publicKey}

listen: ${JSON.stringify(listen)}

${storeDir ? `jetstream {\n  store_dir: ${JSON.stringify(storeDir)}\n}` : 'jetstream: enabled'}

operator: ${setup.operator.jwt}
system_account: ${setup.systemAccount.publicKey}

# Full resolver: the registry pushes account updates (plugin revocations) with $SYS.REQ.CLAIMS.UPDATE and the
# server keeps them here; the preload below never replaces a newer JWT stored there.
resolver {
  type: full
  dir: ${JSON.stringify(resolverDir)}
  allow_delete: false
  interval: "2m"
  timeout: "5s"
}

resolver_preload {
  # SYS
  ${setup.systemAccount.publicKey}: ${setup.systemAccount.jwt}
  # ${setup.account.name}
  ${setup.account.publicKey}: ${setup.account.jwt}
}
`;
}

/**
 * The variables of the core services (VIVIFIED_NATS_CREDS) and the registry (the rest).
 * @param {Awaited<ReturnType<typeof createNatsAuthSetup>>} setup
 * @param {string} credsDir
 */
export function renderRegistryEnv(setup, credsDir) {
  return [
    '# Written by tools/scripts/nats-setup.mjs. Secrets: keep this file 0600 and out of version control.',
    `VIVIFIED_NATS_CREDS=${join(credsDir, 'service.creds')}`,
    `VIVIFIED_NATS_ACCOUNT_PUBLIC_KEY=${setup.account.publicKey}`,
    `VIVIFIED_NATS_ACCOUNT_SIGNING_SEED=${setup.account.signingSeed}`,
    `VIVIFIED_NATS_OPERATOR_SIGNING_SEED=${setup.operator.signingSeed}`,
    `VIVIFIED_NATS_SYSTEM_CREDS=${join(credsDir, 'registry-system.creds')}`,
    '',
  ].join('\n');
}

/** The files of a setup, by name. */
export function setupFiles(setup, paths) {
  return {
    'operator.nk': `${setup.operator.seed}\n`,
    'operator-signing.nk': `${setup.operator.signingSeed}\n`,
    'operator.jwt': `${setup.operator.jwt}\n`,
    'system-account.nk': `${setup.systemAccount.seed}\n`,
    'system-account.jwt': `${setup.systemAccount.jwt}\n`,
    'account.nk': `${setup.account.seed}\n`,
    'account-signing.nk': `${setup.account.signingSeed}\n`,
    'account.jwt': `${setup.account.jwt}\n`,
    'service.creds': setup.serviceCreds,
    'registry-system.creds': setup.registrySystemCreds,
    'nats-server.conf': renderServerConfig(setup, paths),
    'registry.env': renderRegistryEnv(setup, paths.credsDir),
  };
}

async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: '.vivified/nats' },
      operator: { type: 'string', default: 'vivified' },
      account: { type: 'string', default: 'VIVIFIED' },
      listen: { type: 'string', default: '0.0.0.0:4222' },
      'store-dir': { type: 'string' },
      'resolver-dir': { type: 'string' },
      'creds-dir': { type: 'string' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(usage);

    return;
  }
  const out = resolve(values.out);
  const absolute = (value, fallback) => (value ? (isAbsolute(value) ? value : resolve(value)) : fallback);
  const paths = {
    listen: values.listen,
    storeDir: values['store-dir'] === '-' ? undefined : absolute(values['store-dir'], join(out, 'jetstream')),
    resolverDir: absolute(values['resolver-dir'], join(out, 'jwt')),
    credsDir: absolute(values['creds-dir'], out),
  };
  if (existsSync(join(out, 'operator.jwt')) && !values.force) {
    throw new Error(
      `${out} already holds a setup; --force replaces it (every user and JWT issued so far stops working)`,
    );
  }

  const setup = await createNatsAuthSetup({ operatorName: values.operator, accountName: values.account });
  mkdirSync(out, { recursive: true, mode: 0o700 });
  chmodSync(out, 0o700);
  const files = setupFiles(setup, paths);
  for (const [name, content] of Object.entries(files)) {
    const path = join(out, name);
    writeFileSync(path, content, { mode: 0o600 });
    chmodSync(path, 0o600);
  }

  const summary = {
    dir: out,
    serverConfig: join(out, 'nats-server.conf'),
    registryEnv: join(out, 'registry.env'),
    serviceCreds: join(out, 'service.creds'),
    registrySystemCreds: join(out, 'registry-system.creds'),
    operatorPublicKey: setup.operator.publicKey,
    operatorSigningPublicKey: setup.operator.signingPublicKey,
    systemAccountPublicKey: setup.systemAccount.publicKey,
    accountPublicKey: setup.account.publicKey,
    accountSigningPublicKey: setup.account.signingPublicKey,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);

    return;
  }
  process.stdout.write(
    [
      `NATS production setup written to ${out}`,
      `  operator      ${summary.operatorPublicKey}`,
      `  account       ${summary.accountPublicKey} (signing key ${summary.accountSigningPublicKey})`,
      `  system        ${summary.systemAccountPublicKey}`,
      `Start the server:   nats-server -c ${summary.serverConfig}`,
      `Service variables:  ${summary.registryEnv} (secrets: the signing seeds)`,
      'Move operator.nk, account.nk and system-account.nk somewhere offline; nothing at run time needs them.',
      '',
    ].join('\n'),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`nats-setup: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
