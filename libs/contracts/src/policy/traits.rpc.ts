import 'reflect-metadata';

import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsString, ValidateNested } from 'class-validator';

import type { PrincipalKind } from '../rpc';

/** The trait vocabulary as `GET /v1/traits` answers it. */

/** `GET /v1/traits`: no body. */
export class TraitListRequest {}

/** One trait. Legacy names are not listed on their own: they appear in the `aliases` of the real trait. */
export class TraitView {
  /** `handles_phi`, `ui.config`, … */
  @IsString()
  name!: string;

  /** role, capability, data_access, ui_feature, plugin_type, security, compliance or system. */
  @IsString()
  category!: string;

  @IsString()
  description!: string;

  /** Every one of these must be held too. */
  @IsString({ each: true })
  requires!: string[];

  /** At least one of these must be held too (empty: no such requirement). */
  @IsString({ each: true })
  requiresAnyOf!: string[];

  /** None of these may be held with it. */
  @IsString({ each: true })
  conflicts!: string[];

  /** Legacy names that resolve to it. */
  @IsString({ each: true })
  aliases!: string[];

  /** Grants sensitive data or platform administration. */
  @IsBoolean()
  sensitive!: boolean;

  /** Label in the admin console. */
  @IsString()
  uiLabel!: string;

  /** Material icon name in the admin console. */
  @IsString()
  uiIcon!: string;

  /** The kinds of principal that may hold it. */
  @IsIn(['user', 'plugin', 'service'], { each: true })
  holders!: PrincipalKind[];
}

/** The whole vocabulary, by name. */
export class TraitListReply {
  @ValidateNested({ each: true })
  @Type(() => TraitView)
  traits!: TraitView[];
}
