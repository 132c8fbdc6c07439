import { Module } from '@nestjs/common';

import { WebauthnHandlers } from './webauthn.handlers';
import { WebauthnRepository } from './webauthn.repository';
import { CeremonyChallenges } from './ceremony-challenges';
import { PasskeyLoginService } from './passkey-login.service';
import { PasskeyRegistrationService } from './passkey-registration.service';

/**
 * Passkeys: WebAuthn registration and login ceremonies with stored, single-use challenges. Uses USER_DIRECTORY,
 * SIGN_OUT and INTERACTIVE_SESSIONS (accounts) and TOKEN_ISSUER (tokens), all global.
 */
@Module({
  controllers: [WebauthnHandlers],
  providers: [PasskeyRegistrationService, PasskeyLoginService, CeremonyChallenges, WebauthnRepository],
})
export class WebauthnModule {}
