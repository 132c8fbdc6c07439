import { Global, Module } from '@nestjs/common';

/** Users, roles, passwords, lockout, TOTP, backup codes and passkeys; provides USER_DIRECTORY. */
@Global()
@Module({})
export class AccountsModule {}
