import { Body, Controller, Get, Headers, Put, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ConfigHistoryReply,
  ConfigPutRequest,
  ConfigView,
  ErrorCode,
  subjects,
  VivifiedError,
} from '@vivified/contracts';
import type { FastifyReply } from 'fastify';

import type { EdgeCaller } from '../core/core-api';
import { CoreApi } from '../core/core-api';
import { Caller } from '../http/caller.decorator';
import { Endpoint } from '../http/endpoint.decorator';

/** A query-string integer as the contract wants it; anything else is passed on for the contract to refuse. */
const integer = (value: string | undefined): number | string | undefined =>
  value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : value;

/** The entity tags of an `If-None-Match` / `If-Match` header, weak prefixes dropped. */
function entityTags(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .filter((tag) => tag.length > 0);
}

/** Whether `If-None-Match` names the current view (weak comparison, RFC 9110 §13.1.2). */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  const tags = entityTags(ifNoneMatch);

  return tags.includes('*') || tags.includes(etag.replace(/^W\//, ''));
}

/** The config version an `If-Match` entity tag was issued for (`"cfg-<version>-<digest>"`). */
const ETAG_VERSION = /^"cfg-(\d{1,15})-[0-9a-f]+"$/;

/**
 * The body of a PUT with `If-Match` turned into the contract's `expectedVersion` (the policy service checks it
 * atomically): a tag of another resource can never match (`409`), and a body that says otherwise is refused.
 */
export function withPrecondition(body: unknown, ifMatch: string | undefined): unknown {
  const tags = entityTags(ifMatch);
  if (tags.length === 0 || tags.includes('*') || typeof body !== 'object' || body === null) {
    return body;
  }
  const versions = new Set(tags.map((tag) => ETAG_VERSION.exec(tag)?.[1]));
  const [only] = [...versions];
  if (versions.size !== 1 || only === undefined) {
    throw new VivifiedError(ErrorCode.Conflict, 'If-Match does not name the current config', {
      reason: 'version_conflict',
    });
  }
  const expectedVersion = Number(only);
  const given = (body as { expectedVersion?: unknown }).expectedVersion;
  if (given !== undefined && given !== expectedVersion) {
    throw new VivifiedError(ErrorCode.BadRequest, 'If-Match and expectedVersion disagree', {
      reason: 'precondition_mismatch',
    });
  }

  return { ...body, expectedVersion };
}

/** The platform config (ARCHITECTURE §7 `GET|PUT /v1/config`), onto the policy service; see docs/config.md. */
@ApiTags('config')
@Controller()
export class ConfigController {
  constructor(private readonly core: CoreApi) {}

  @Get('v1/config')
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'An ETag of an earlier answer' })
  @ApiResponse({ status: 304, description: 'not modified (If-None-Match names the current ETag)' })
  @Endpoint({
    summary:
      'The platform config: every catalog key with its value, default and source, and an ETag; sensitive ' +
      'values are never answered ("***" and set).',
    reply: ConfigView,
    auth: true,
  })
  async get(
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Caller() caller: EdgeCaller,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const view = await this.core.call(subjects.policy.config.get, {}, caller);
    void reply.header('etag', view.etag).header('cache-control', 'private, no-cache');
    if (notModified(ifNoneMatch, view.etag)) {
      await reply.status(304).send();

      return;
    }
    await reply.status(200).send(view);
  }

  @Put('v1/config')
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The ETag the change was made against (or expectedVersion in the body); 409 when stale',
  })
  @ApiResponse({
    status: 409,
    description: 'the config changed since If-Match / expectedVersion',
    schema: { $ref: '#/components/schemas/ErrorEnvelope' },
  })
  @Endpoint({
    summary:
      'Sets config keys (null: back to the default): a new version, audited and published to vivified_config. ' +
      '400 names every unknown key and misfit value; 409 when If-Match or expectedVersion is stale.',
    body: ConfigPutRequest,
    reply: ConfigView,
    auth: true,
  })
  async put(
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Caller() caller: EdgeCaller,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const view = await this.core.call(subjects.policy.config.put, withPrecondition(body, ifMatch), caller);
    await reply.header('etag', view.etag).header('cache-control', 'no-store').status(200).send(view);
  }

  @Get('v1/config/history')
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'before', required: false, type: Number })
  @Endpoint({
    summary: 'Earlier versions of the config, newest first: who changed which keys, when and why.',
    reply: ConfigHistoryReply,
    auth: true,
  })
  history(
    @Query('limit') limit: string | undefined,
    @Query('before') before: string | undefined,
    @Caller() caller: EdgeCaller,
  ) {
    const query = {
      ...(limit === undefined ? {} : { limit: integer(limit) }),
      ...(before === undefined ? {} : { before: integer(before) }),
    };

    return this.core.call(subjects.policy.config.history, query, caller);
  }
}
