import { Global, Module } from '@nestjs/common';

import { INTERACTIVE_SESSIONS, SIGN_OUT, USER_DIRECTORY } from './ports';
import { ACCOUNTS_CLOCK, systemAccountsClock } from './accounts.clock';
import { accountsCryptoProviders } from './accounts.crypto';
import { AccountsAudit } from './accounts-audit';
import { MfaCoverageHandlers } from './mfa-coverage/mfa-coverage.handlers';
import { MfaCoverageRepository } from './mfa-coverage/mfa-coverage.repository';
import { MfaCoverageService } from './mfa-coverage/mfa-coverage.service';
import { AuthHandlers } from './login/auth.handlers';
import { LockoutService } from './login/lockout.service';
import { LoginService } from './login/login.service';
import { LoginStateRepository } from './login/login-state.repository';
import { SessionOpener } from './login/session-opener.service';
import { ThrottleService } from './login/throttle.service';
import { EnrollmentCallers } from './mfa/enrollment-callers';
import { MfaRepository } from './mfa/mfa.repository';
import { MfaHandlers } from './mfa/mfa.handlers';
import { MfaSettingsService } from './mfa/mfa-settings.service';
import { SecondFactorService } from './mfa/second-factor.service';
import { TotpEnrollmentService } from './mfa/totp-enrollment.service';
import { PasswordChangeService } from './password/password-change.service';
import { InteractiveSessionGate } from './sessions/interactive-session-gate';
import { SessionRevocations } from './sessions/session-revocations';
import { SignOutService } from './sessions/sign-out.service';
import { PasswordHasher } from './password/password-hasher';
import { RequiredPasswordChangeService } from './password/required-password-change.service';
import { AccountResetService } from './users/account-reset.service';
import { FirstAdminService, ONE_TIME_OUTPUT } from './users/first-admin.service';
import { PostgresUserDirectory } from './users/user-directory';
import { UsersHandlers } from './users/users.handlers';
import { UsersRepository } from './users/users.repository';
import { UsersService } from './users/users.service';

/**
 * Users, roles, passwords, lockout, TOTP and backup codes; provides USER_DIRECTORY to the token half, SIGN_OUT to
 * the passkeys and INTERACTIVE_SESSIONS to both.
 */
@Global()
@Module({
  controllers: [AuthHandlers, MfaHandlers, UsersHandlers, MfaCoverageHandlers],
  providers: [
    ...accountsCryptoProviders,
    { provide: ACCOUNTS_CLOCK, useValue: systemAccountsClock },
    { provide: ONE_TIME_OUTPUT, useValue: (text: string) => process.stdout.write(text) },
    { provide: USER_DIRECTORY, useClass: PostgresUserDirectory },
    AccountsAudit,
    UsersRepository,
    LoginStateRepository,
    MfaRepository,
    PasswordHasher,
    SessionRevocations,
    SignOutService,
    { provide: SIGN_OUT, useExisting: SignOutService },
    InteractiveSessionGate,
    { provide: INTERACTIVE_SESSIONS, useExisting: InteractiveSessionGate },
    PasswordChangeService,
    RequiredPasswordChangeService,
    LockoutService,
    ThrottleService,
    SecondFactorService,
    SessionOpener,
    LoginService,
    EnrollmentCallers,
    TotpEnrollmentService,
    MfaSettingsService,
    UsersService,
    AccountResetService,
    FirstAdminService,
    MfaCoverageRepository,
    MfaCoverageService,
  ],
  exports: [USER_DIRECTORY, SIGN_OUT, INTERACTIVE_SESSIONS],
})
export class AccountsModule {}
