import { IsInt, IsISO8601, IsNumber, IsString, Min } from 'class-validator';

/** Request of `vivified.v1.<service>.info.get`: no fields. */
export class InfoRequest {}

/** Reply of `vivified.v1.<service>.info.get`. */
export class InfoReply {
  /** Service name (`identity`). */
  @IsString()
  name!: string;

  /** Service version (semver). */
  @IsString()
  version!: string;

  /** Seconds since the process started. */
  @IsNumber()
  @Min(0)
  uptimeSeconds!: number;

  /** When the process started (ISO 8601). */
  @IsISO8601()
  startedAt!: string;

  /** Id of this instance (several may serve one queue group). */
  @IsString()
  instanceId!: string;

  /** Process id, for operators. */
  @IsInt()
  pid!: number;
}
