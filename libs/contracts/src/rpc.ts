import type { Classification } from './headers';
import type { PayloadClass } from './validation';

/**
 * Who may call a handler. Public handlers (health-like info, JWKS, login) are declared here and nowhere
 * else; every other handler names the policy action the sidecar evaluates (see ADR-0003).
 */
export type Access =
  | { readonly public: true }
  | {
      readonly public?: false;
      /** Policy action evaluated for the caller (`identity.user.read`). */
      readonly action: string;
      /** Classification of the data the handler returns or touches. */
      readonly classification?: readonly Classification[];
      /**
       * Capability traits of which the caller needs at least one (`user_manager`). Without it, any authenticated
       * caller of an allowed kind passes this check; the policy engine may refuse more.
       */
      readonly anyTrait?: readonly string[];
      /**
       * Which kinds of principal may call.
       * @default ['user', 'plugin', 'service']
       */
      readonly kinds?: readonly PrincipalKind[];
    };

/** The kinds of authenticated caller (the `typ` claim of a token). */
export type PrincipalKind = 'user' | 'plugin' | 'service';

/** The access of a public handler. */
export const PUBLIC: Access = { public: true };

/** One request/reply operation of the wire contract. */
export interface RpcContract<Req extends object = object, Rep extends object = object> {
  /** The subject it is served on. */
  readonly subject: string;
  /** Class that validates the request. */
  readonly request: PayloadClass<Req>;
  /** Class that describes the reply. */
  readonly reply: PayloadClass<Rep>;
  /** Who may call it. */
  readonly access: Access;
  /** One line for the subject catalog. */
  readonly summary: string;
  /**
   * How long a caller waits by default, in milliseconds.
   * @default 5000
   */
  readonly timeoutMs?: number;
}

/** Declares a contract with its request and reply types inferred from the classes. */
export function defineRpc<Req extends object, Rep extends object>(
  contract: RpcContract<Req, Rep>,
): RpcContract<Req, Rep> {
  return contract;
}
