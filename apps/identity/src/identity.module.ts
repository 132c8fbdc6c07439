import { Module } from '@nestjs/common';

import { AccountsModule } from './accounts/accounts.module';
import { InfoHandlers } from './info/info.handlers';
import { TokensModule } from './tokens/tokens.module';

@Module({ imports: [AccountsModule, TokensModule], controllers: [InfoHandlers] })
export class IdentityModule {}
