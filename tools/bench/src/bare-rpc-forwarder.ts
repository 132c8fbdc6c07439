// The floor of the operator lane (issue 8), run by lanes-bench.ts as a process of its own like the gateway: a
// request in, the same request forwarded to the target, its reply answered — on the same transport (nats.js,
// RequestMux) with no checks at all. Two subjects, two shapes:
// - BARE_HOPS_SUBJECT: the bytes as given, without headers (the hop alone);
// - BARE_CONTRACT_SUBJECT: the wire format of ARCHITECTURE §3 and §7 as the gateway writes it — the caller's bearer
//   token read, and the forward carrying a call token this process signs for the call (Ed25519 JWS naming caller,
//   target, operation and trace, as the gateway's CallTokenSigner makes it) and a `traceparent` — still without
//   verifying, deciding, auditing or counting anything.
// Environment: BARE_NATS_URL, BARE_HOPS_SUBJECT, BARE_CONTRACT_SUBJECT, BARE_TARGET_SUBJECT.
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';

import { headers as headerNames } from '@vivified/contracts';
import { childTraceparent, RequestMux } from '@vivified/nats-transport';
import { connect, headers } from 'nats';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is required`);
  }

  return value;
}

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

async function main(): Promise<void> {
  // a clean exit on the bench's SIGTERM, so `--cpu-prof` (BENCH_GATEWAY_NODE_ARGS) writes its profile
  process.once('SIGTERM', () => process.exit(0));
  const nc = await connect({ servers: env('BARE_NATS_URL'), name: 'bench-bare-rpc-forwarder' });
  const mux = RequestMux.of(nc);
  const target = env('BARE_TARGET_SUBJECT');
  const { privateKey } = generateKeyPairSync('ed25519');
  const header = b64(JSON.stringify({ alg: 'EdDSA', kid: 'bench', typ: 'vivified-call+jwt' }));
  const callToken = (traceId: string) => {
    const iat = Math.floor(Date.now() / 1000);
    const claims = {
      iss: 'vivified-gateway',
      aud: 'plugin:bench-target',
      sub: 'plugin:bench-caller',
      typ: 'call',
      target: 'bench-target',
      operation: 'echo',
      trace: traceId,
      traits: [],
      jti: randomUUID(),
      iat,
      exp: iat + 6,
    };
    const signingInput = `${header}.${b64(JSON.stringify(claims))}`;

    return `${signingInput}.${sign(null, Buffer.from(signingInput), privateKey).toString('base64url')}`;
  };

  nc.subscribe(env('BARE_HOPS_SUBJECT'), {
    callback: (_error, msg) => {
      mux.request(target, msg.data, { timeoutMs: 5_000 }).then(
        (reply) => msg.respond(reply.data),
        () => undefined,
      );
    },
  });
  nc.subscribe(env('BARE_CONTRACT_SUBJECT'), {
    callback: (_error, msg) => {
      if (!msg.headers?.get(headerNames.authorization)) {
        return;
      }
      const traceId = randomBytes(16).toString('hex');
      const hdrs = headers();
      hdrs.set(headerNames.authorization, `Bearer ${callToken(traceId)}`);
      hdrs.set('traceparent', childTraceparent(traceId));
      mux.request(target, msg.data, { timeoutMs: 5_000, headers: hdrs }).then(
        (reply) => msg.respond(reply.data),
        () => undefined,
      );
    },
  });
  await nc.flush();
  process.send?.('ready');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
