import { FileKekProvider } from './file-kek-provider';
import { StaticKekProvider } from './kek';
import type { KekProvider } from './kek';

/** Options of {@link createKekProvider}, usually straight from service config. */
export interface KekProviderOptions {
  /** Inline KEKs (`VIVIFIED_KEK`): `v1:<base64>,v2:<base64>`; wins when non-empty. */
  readonly kek?: string;
  /** Key file path (`VIVIFIED_KEK_FILE`); used when `kek` is empty. */
  readonly kekFile: string;
  /**
   * Create the key file when missing; see `FileKekProviderOptions.createIfMissing`.
   * @default true
   */
  readonly createIfMissing?: boolean;
}

/** The provider a service uses: inline KEKs when given, otherwise the key file. */
export function createKekProvider(options: KekProviderOptions): KekProvider {
  if (options.kek !== undefined && options.kek.trim().length > 0) {
    return new StaticKekProvider(options.kek);
  }

  return new FileKekProvider({ path: options.kekFile, createIfMissing: options.createIfMissing ?? true });
}
