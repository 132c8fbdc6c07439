import { Global, Module } from '@nestjs/common';

/** Signing keys, JWKS, sessions and refresh tokens, plugin/service/API-key tokens; provides TOKEN_ISSUER. */
@Global()
@Module({})
export class TokensModule {}
