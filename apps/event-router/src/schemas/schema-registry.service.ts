import { Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import type {
  Classification,
  EventFieldSpec,
  EventTypeListReply,
  EventTypeListRequest,
  EventTypeRegisterRequest,
  EventTypeView,
  FieldError,
} from '@vivified/contracts';
import { canonicalEvents, ErrorCode, validatePayload, VivifiedError } from '@vivified/contracts';

import type { EventTypeRow } from './event-types.repository';
import { EventTypesKv } from './event-types.kv';
import { EventTypesRepository } from './event-types.repository';

/** One resolved schema version: what publish validates against and delivery classifies by. */
export interface ResolvedSchema {
  type: string;
  version: string;
  classification: readonly Classification[];
  /** Payload fields a sanitize decision strips besides the engine's list (fields marked `pii`). */
  piiFields: readonly string[];
  validate(payload: Record<string, unknown>): FieldError[];
}

interface VersionEntry {
  view: EventTypeView;
  schema: ResolvedSchema;
  major: number;
  minor: number;
}

const CANONICAL_OWNER = 'core';

function checkField(spec: EventFieldSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') {
        return `${spec.name} must be a string`;
      }
      break;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return `${spec.name} must be a number`;
      }
      break;
    case 'integer':
      if (!Number.isSafeInteger(value)) {
        return `${spec.name} must be an integer`;
      }
      break;
    case 'boolean':
      if (typeof value !== 'boolean') {
        return `${spec.name} must be a boolean`;
      }
      break;
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return `${spec.name} must be an object`;
      }
      break;
    case 'array':
      if (!Array.isArray(value)) {
        return `${spec.name} must be an array`;
      }
      break;
  }
  if (spec.maxLength !== undefined && (typeof value === 'string' || Array.isArray(value))) {
    if (value.length > spec.maxLength) {
      return `${spec.name} must be at most ${spec.maxLength} long`;
    }
  }

  return undefined;
}

/** Validation of a registered (field-list) schema: required fields, JSON types, no unknown fields. */
function fieldListValidator(fields: readonly EventFieldSpec[]): ResolvedSchema['validate'] {
  const known = new Map(fields.map((field) => [field.name, field]));

  return (payload) => {
    const errors: FieldError[] = [];
    for (const field of fields) {
      if (payload[field.name] === undefined) {
        if (field.required === true) {
          errors.push({ path: `payload.${field.name}`, messages: [`${field.name} is required`] });
        }
        continue;
      }
      const problem = checkField(field, payload[field.name]);
      if (problem) {
        errors.push({ path: `payload.${field.name}`, messages: [problem] });
      }
    }
    for (const name of Object.keys(payload)) {
      if (!known.has(name)) {
        errors.push({ path: `payload.${name}`, messages: [`property ${name} should not exist`] });
      }
    }

    return errors;
  };
}

function piiFieldsOf(fields: readonly EventFieldSpec[]): string[] {
  return fields.filter((field) => field.sensitive === 'pii').map((field) => field.name);
}

/**
 * The schema registry: the canonical types of libs/contracts (class-validator schemas) and the namespaced plugin
 * types registered in PostgreSQL (field lists), each version `major.minor`, one active version per major.
 */
@Injectable()
export class SchemaRegistryService implements OnModuleInit {
  /** type → versions, sorted by major then minor. */
  private readonly types = new Map<string, VersionEntry[]>();

  constructor(
    private readonly repository: EventTypesRepository,
    private readonly published: EventTypesKv,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
    await this.publishAll();
    // another replica registered a version: read the source again (the bucket only says which type changed)
    await this.published.watch(() => {
      void this.reload().catch(() => undefined);
    });
  }

  /** Writes every type's versions to `vivified_event_types` (unchanged ones are skipped). */
  async publishAll(): Promise<void> {
    for (const [type, versions] of this.types) {
      await this.published.put(
        type,
        versions.map((entry) => entry.view),
      );
    }
  }

  /** Reads the registered types again (after a registration, or another replica's). */
  async reload(): Promise<void> {
    const next = new Map<string, VersionEntry[]>();
    for (const canonical of canonicalEvents) {
      const [major, minor] = canonical.version.split('.').map(Number) as [number, number];
      const payload = canonical.payload;
      next.set(canonical.type, [
        {
          major,
          minor,
          view: {
            type: canonical.type,
            version: canonical.version,
            classification: [...canonical.classification],
            fields: [...canonical.fields],
            owner: CANONICAL_OWNER,
            active: true,
            summary: canonical.summary,
          },
          schema: {
            type: canonical.type,
            version: canonical.version,
            classification: canonical.classification,
            piiFields: piiFieldsOf(canonical.fields),
            validate: (value) => {
              const result = validatePayload(payload, value);

              return result.ok
                ? []
                : result.errors.map((error) => ({ ...error, path: `payload.${error.path}` }));
            },
          },
        },
      ]);
    }
    for (const row of await this.repository.list()) {
      const entry = this.entryOf(row);
      next.set(row.type, [...(next.get(row.type) ?? []), entry]);
    }
    this.types.clear();
    for (const [type, versions] of next) {
      this.types.set(
        type,
        versions.sort((a, b) => a.major - b.major || a.minor - b.minor),
      );
    }
  }

  /**
   * The schema a publish of `type` validates against: the requested `major.minor` (which must exist), else the
   * active version of the newest major. Undefined for an unknown type or version.
   */
  resolve(type: string, version?: string): ResolvedSchema | undefined {
    const versions = this.types.get(type);
    if (!versions) {
      return undefined;
    }
    if (version !== undefined) {
      return versions.find((entry) => entry.view.version === version)?.schema;
    }
    const newestMajor = versions[versions.length - 1]?.major;
    const active = versions.filter((entry) => entry.major === newestMajor && entry.view.active);

    return (active[0] ?? versions.filter((entry) => entry.major === newestMajor).pop())?.schema;
  }

  list(request: EventTypeListRequest): EventTypeListReply {
    const types = [...this.types.entries()]
      .filter(([type]) => request.type === undefined || type === request.type)
      .flatMap(([, versions]) => versions.map((entry) => entry.view));

    return { types };
  }

  async register(request: EventTypeRegisterRequest): Promise<EventTypeView> {
    if (this.types.get(request.type)?.some((entry) => entry.view.owner === CANONICAL_OWNER)) {
      throw new VivifiedError(ErrorCode.Conflict, 'a canonical type cannot be registered', {
        reason: 'canonical_type',
      });
    }
    const owner = this.types.get(request.type)?.[0]?.view.owner;
    if (owner !== undefined && owner !== request.owner) {
      throw new VivifiedError(ErrorCode.Conflict, 'the type belongs to another plugin', {
        reason: 'type_owned_by_another_plugin',
      });
    }
    const [major, minor] = request.version.split('.').map(Number) as [number, number];
    const row: EventTypeRow = {
      type: request.type,
      major,
      minor,
      owner: request.owner,
      classification: [...new Set(request.classification)].sort(),
      fields: request.fields.map((field) => ({ ...field })),
      summary: request.summary ?? null,
      active: request.activate !== false,
    };
    const outcome = await this.repository.insert(row);
    if (outcome === 'exists') {
      throw new VivifiedError(ErrorCode.Conflict, 'this version is already registered', {
        reason: 'version_exists',
      });
    }
    await this.reload();
    await this.published.put(
      request.type,
      (this.types.get(request.type) ?? []).map((entry) => entry.view),
    );
    const view = this.types.get(request.type)?.find((entry) => entry.view.version === request.version)?.view;
    if (!view) {
      throw new VivifiedError(ErrorCode.Internal, 'registered type not found after reload');
    }

    return view;
  }

  private entryOf(row: EventTypeRow): VersionEntry {
    const version = `${row.major}.${row.minor}`;

    return {
      major: row.major,
      minor: row.minor,
      view: {
        type: row.type,
        version,
        classification: row.classification,
        fields: row.fields,
        owner: row.owner,
        active: row.active,
        ...(row.summary === null ? {} : { summary: row.summary }),
      },
      schema: {
        type: row.type,
        version,
        classification: row.classification,
        piiFields: piiFieldsOf(row.fields),
        validate: fieldListValidator(row.fields),
      },
    };
  }
}
