// Exits 0 when the NATS server at the given URL (default nats://127.0.0.1:4222) has JetStream, else prints why
// and exits 1. Used by .ci/run; needs the installed `nats` package.
import { checkJetStream } from './lib/nats.mjs';

const url = process.argv[2] ?? 'nats://127.0.0.1:4222';
try {
  await checkJetStream(url);
  process.stdout.write(`NATS at ${url} has JetStream\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
