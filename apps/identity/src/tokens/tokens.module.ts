import { Global, Module } from '@nestjs/common';

import { TOKEN_ISSUER } from '../identity.ports';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { cryptoProviders } from './crypto.providers';
import { JwksBucketClient } from './jwks-bucket.client';
import { PluginCredentialsRepository } from './plugin-credentials.repository';
import { PluginCredentialsService } from './plugin-credentials.service';
import { PluginStatusClient } from './plugin-status.client';
import { ServiceTokensService } from './service-tokens.service';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { SigningKeysRepository } from './signing-keys.repository';
import { SigningKeysService } from './signing-keys.service';
import { TokenIssuerAdapter } from './token-issuer';
import { TokenSigner } from './token-signer.service';
import { ApiKeysHandlers, KeysHandlers, MachineTokensHandlers, SessionsHandlers } from './tokens.handlers';

/**
 * Signing keys, JWKS, sessions and refresh tokens, plugin/service/API-key tokens; provides TOKEN_ISSUER.
 * An optional `CLOCK` provided elsewhere replaces real time (tests).
 */
@Global()
@Module({
  controllers: [SessionsHandlers, KeysHandlers, MachineTokensHandlers, ApiKeysHandlers],
  providers: [
    ...cryptoProviders,
    SigningKeysRepository,
    JwksBucketClient,
    SigningKeysService,
    TokenSigner,
    SessionsRepository,
    SessionsService,
    PluginCredentialsRepository,
    PluginStatusClient,
    PluginCredentialsService,
    ServiceTokensService,
    ApiKeysRepository,
    ApiKeysService,
    { provide: TOKEN_ISSUER, useClass: TokenIssuerAdapter },
  ],
  exports: [TOKEN_ISSUER],
})
export class TokensModule {}
