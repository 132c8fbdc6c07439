import { Module } from '@nestjs/common';

import { AccountsModule } from './accounts/accounts.module';
import { InfoHandlers } from './info/info.handlers';
import { TokensModule } from './tokens/tokens.module';
import { WebauthnModule } from './webauthn/webauthn.module';

@Module({ imports: [AccountsModule, TokensModule, WebauthnModule], controllers: [InfoHandlers] })
export class IdentityModule {}
