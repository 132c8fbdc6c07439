import { readFileSync } from 'node:fs';

import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { format, resolveConfig } from 'prettier';
import ts from 'typescript';

import {
  BoundedJsonObjectConstraint,
  manifestLimits,
  PluginManifest,
  RATE_LIMIT_NAME_PATTERN,
  RateLimitMapConstraint,
} from '@vivified/contracts';

/**
 * Generates `libs/contracts/schemas/manifest.schema.json` (JSON Schema draft 2020-12) from the class-validator
 * classes of the manifest, with their TSDoc as descriptions; deterministic (keys sorted, prettier-formatted).
 * Test and tooling code only: it reads the contracts' source for the TSDoc.
 */

/** The classes of the manifest, root first; their names are the `$defs` keys. */
const MANIFEST_CLASSES = [
  'PluginManifest',
  'ManifestEvents',
  'ManifestOperation',
  'ManifestDelivery',
  'ManifestSecurity',
  'ManifestCompliance',
  'ManifestResources',
  'ManifestHealthCheck',
] as const;

/** `$id` of the schema: a name, not a location. */
export const MANIFEST_SCHEMA_ID = 'urn:vivified:schema:plugin-manifest:v1';

type SchemaObject = ReturnType<typeof validationMetadatasToSchemas>[string];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Doc {
  description?: string;
  default?: Json;
}

/** TSDoc of every class and property of a source file: `Class` and `Class.property`. */
export function readTsDoc(sourcePath: string): Map<string, Doc> {
  const source = ts.createSourceFile(
    sourcePath,
    readFileSync(sourcePath, 'utf8'),
    ts.ScriptTarget.ES2022,
    true,
  );
  const docs = new Map<string, Doc>();
  const docOf = (node: ts.Node): Doc | undefined => {
    const jsDoc = ts.getJSDocCommentsAndTags(node).find((entry): entry is ts.JSDoc => ts.isJSDoc(entry));
    if (jsDoc === undefined) {
      return undefined;
    }
    const doc: Doc = {};
    const text = ts.getTextOfJSDocComment(jsDoc.comment);
    if (text !== undefined && text.trim() !== '') {
      doc.description = text
        .replace(/\{@link\s+([^}\s]+)\s*\}/g, '$1')
        .replace(/\s+/g, ' ')
        .trim();
    }
    const defaultTag = jsDoc.tags?.find((tag) => tag.tagName.text === 'default');
    const defaultText =
      defaultTag === undefined ? undefined : ts.getTextOfJSDocComment(defaultTag.comment)?.trim();
    if (defaultText !== undefined) {
      try {
        doc.default = JSON.parse(defaultText) as Json;
      } catch {
        doc.default = defaultText;
      }
    }

    return doc;
  };
  for (const statement of source.statements) {
    if (!ts.isClassDeclaration(statement) || statement.name === undefined) {
      continue;
    }
    const className = statement.name.text;
    const classDoc = docOf(statement);
    if (classDoc !== undefined) {
      docs.set(className, classDoc);
    }
    for (const member of statement.members) {
      if (ts.isPropertyDeclaration(member) && ts.isIdentifier(member.name)) {
        const memberDoc = docOf(member);
        if (memberDoc !== undefined) {
          docs.set(`${className}.${member.name.text}`, memberDoc);
        }
      }
    }
  }

  return docs;
}

/** What class-validator cannot say: conditional requirements, URI format, the maps. */
const OVERLAYS: Record<string, Record<string, Json>> = {
  ManifestDelivery: {
    if: { properties: { mode: { const: 'http' } }, required: ['mode'] },
    then: { required: ['webhookUrl'] },
    else: { not: { required: ['webhookUrl'] } },
  },
  ManifestHealthCheck: {
    if: { properties: { type: { const: 'http' } }, required: ['type'] },
    then: { required: ['path'] },
    else: { not: { required: ['path'] } },
  },
};

const PROPERTY_OVERLAYS: Record<string, Record<string, Json>> = {
  'ManifestDelivery.webhookUrl': { format: 'uri', pattern: '^https://' },
};

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => sortKeys(item));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }

  return value;
}

/** `rateLimits` as JSON Schema: OpenAPI 3.0's SchemaObject, which the converters are typed with, lacks propertyNames. */
const RATE_LIMITS_SCHEMA = {
  type: 'object',
  maxProperties: manifestLimits.rateLimits,
  propertyNames: { pattern: RATE_LIMIT_NAME_PATTERN.source },
  additionalProperties: { type: 'integer', minimum: 0, maximum: manifestLimits.maxRateLimit },
} as SchemaObject;

/** The manifest's JSON Schema as an object (keys sorted). */
export function buildManifestJsonSchema(contractsSourcePath: string): Record<string, unknown> {
  // referenced so that the classes (and their metadata) are loaded before the storage is read
  void [PluginManifest, RateLimitMapConstraint, BoundedJsonObjectConstraint];
  const schemas = validationMetadatasToSchemas({
    refPointerPrefix: '#/$defs/',
    classTransformerMetadataStorage: defaultMetadataStorage,
    additionalConverters: {
      rateLimitMap: RATE_LIMITS_SCHEMA,
      boundedJsonObject: { type: 'object' },
    },
  });
  const docs = readTsDoc(contractsSourcePath);
  const definitions = Object.fromEntries(
    MANIFEST_CLASSES.map((name) => {
      const schema = schemas[name] as SchemaObject | undefined;
      if (schema === undefined) {
        throw new Error(`no class-validator metadata for ${name}`);
      }
      const properties = Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([property, propertySchema]) => [
          property,
          {
            ...(propertySchema as Record<string, Json>),
            ...docs.get(`${name}.${property}`),
            ...PROPERTY_OVERLAYS[`${name}.${property}`],
          },
        ]),
      );

      return [
        name,
        {
          ...schema,
          properties,
          required: [...(schema.required ?? [])].sort(),
          additionalProperties: false,
          ...(docs.get(name)?.description === undefined ? {} : { description: docs.get(name)?.description }),
          ...OVERLAYS[name],
        },
      ];
    }),
  );
  const [root, ...rest] = MANIFEST_CLASSES;

  return sortKeys({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: MANIFEST_SCHEMA_ID,
    title: 'Vivified plugin manifest',
    ...definitions[root],
    $defs: Object.fromEntries(rest.map((name) => [name, definitions[name]])),
  }) as Record<string, unknown>;
}

/** The schema file's text: prettier-formatted JSON with the repository's prettier options, ending in a newline. */
export async function renderManifestJsonSchema(
  contractsSourcePath: string,
  schemaPath: string,
): Promise<string> {
  const options = (await resolveConfig(schemaPath)) ?? {};

  return format(JSON.stringify(buildManifestJsonSchema(contractsSourcePath)), {
    ...options,
    filepath: schemaPath,
  });
}
