import type { Type } from '@nestjs/common';
import { opsPortEnv } from '@vivified/contracts';
import type { RunningService } from '@vivified/service-kit';
import { bootstrapService } from '@vivified/service-kit';
import { freePort } from '@vivified/testing';

import { gatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { gatewayHttp } from '../src/http/edge';

/** Options of {@link startGatewayInProcess}. */
export interface InProcessGatewayOptions {
  /** The root module (a test's own, to add providers). @default GatewayModule */
  module?: Type<unknown>;
  /** Keys of `env` removed from the environment again once the gateway has read them (so no later suite inherits them). */
  forget?: readonly string[];
}

/**
 * Starts the gateway in the test's own process (its config read from the environment, as `main.ts` does), on free
 * HTTP and ops ports, with `env` set on top of the environment; answers it and its HTTP base URL.
 */
export async function startGatewayInProcess(
  env: Record<string, string>,
  options: InProcessGatewayOptions = {},
): Promise<{ gateway: RunningService; base: string }> {
  const httpPort = await freePort();
  Object.assign(process.env, {
    [opsPortEnv('gateway')]: String(await freePort()),
    VIVIFIED_GATEWAY_HTTP_PORT: String(httpPort),
    ...env,
  });
  const gateway = await bootstrapService({
    service: 'gateway',
    version: '0.0.0-test',
    module: options.module ?? GatewayModule,
    configSchema: gatewayConfigSchema,
    http: gatewayHttp('0.0.0-test'),
  });
  for (const key of options.forget ?? []) {
    delete process.env[key];
  }

  return { gateway, base: `http://127.0.0.1:${httpPort}` };
}
