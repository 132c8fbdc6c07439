import { Module } from '@nestjs/common';

import { WebauthnHandlers } from './webauthn.handlers';
import { WebauthnRepository } from './webauthn.repository';
import { WebauthnService } from './webauthn.service';

/**
 * Passkeys: WebAuthn registration and login ceremonies with stored, single-use challenges. Uses USER_DIRECTORY
 * (accounts) and TOKEN_ISSUER (tokens), both global.
 */
@Module({ controllers: [WebauthnHandlers], providers: [WebauthnService, WebauthnRepository] })
export class WebauthnModule {}
