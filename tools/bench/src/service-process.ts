/**
 * Node flags of a service process started by a benchmark: the ones `npm start` and the Docker image use
 * (tools/scripts/lib/services.mjs `SERVICE_NODE_FLAGS`, the Dockerfile's NODE_OPTIONS), so the figures are those of
 * a deployed service, plus any extra flags from the environment variable `extraEnv` (e.g. `--cpu-prof`).
 */
export function serviceNodeArgs(extraEnv: string): string[] {
  return [
    '--enable-source-maps',
    '--max-semi-space-size=32',
    ...(process.env[extraEnv] ?? '').split(' ').filter((arg) => arg.length > 0),
  ];
}
