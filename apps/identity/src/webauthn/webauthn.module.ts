import { Module } from '@nestjs/common';

/** Passkeys: WebAuthn registration and login ceremonies with stored, single-use challenges. */
@Module({})
export class WebauthnModule {}
