import type { MfaCoverageReply } from '@vivified/contracts';
import {
  ErrorCode,
  MfaCoverageReply as MfaCoverageReplyClass,
  parsePayload,
  subjects,
  VivifiedError,
} from '@vivified/contracts';
import type { VivifiedClient } from '@vivified/nats-transport';

/** How long the report waits for identity's answer, service token exchange included. */
export const MFA_COVERAGE_TIMEOUT_MS = 3_000;

/** Identity's figures, or why there are none. */
export type MfaCoverageReading =
  | { readonly ok: true; readonly coverage: MfaCoverageReply }
  | { readonly ok: false; readonly reason: string };

/** The error code (and reason) of a failed call, for the report: never the message or a cause's details. */
function failureReason(error: unknown): string {
  const { code, reason } = error as { code?: unknown; reason?: unknown };
  const head = typeof code === 'string' ? code : ErrorCode.Internal;

  return typeof reason === 'string' && reason.length > 0 ? `${head} (${reason})` : head;
}

/**
 * Asks identity for the MFA coverage of PHI users (`vivified.v1.identity.user.mfa-coverage`) with the audit
 * service's own service token. Never throws: identity down, slow, refusing or answering something malformed is a
 * reading without figures, so the report still answers.
 */
export class MfaCoverageClient {
  constructor(private readonly client: VivifiedClient) {}

  async read(timeoutMs = MFA_COVERAGE_TIMEOUT_MS): Promise<MfaCoverageReading> {
    let timer: NodeJS.Timeout | undefined;
    // the request has its own timeout; the deadline also bounds the service token exchange before it
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new VivifiedError(ErrorCode.Timeout, 'no MFA coverage from identity in time')),
        timeoutMs,
      );
    });
    try {
      const reply = await Promise.race([
        this.client.request(subjects.identity.users.mfaCoverage, {}, { timeoutMs }),
        deadline,
      ]);

      return { ok: true, coverage: parsePayload(MfaCoverageReplyClass, reply) };
    } catch (error) {
      return { ok: false, reason: failureReason(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}
