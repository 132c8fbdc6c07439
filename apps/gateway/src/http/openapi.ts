import type { INestApplication } from '@nestjs/common';
import { Controller, Get, Injectable } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';

import { PublicRoute } from './endpoint.decorator';

/** The generated OpenAPI document, built once at start. */
@Injectable()
export class OpenApiDocument {
  private document: OpenAPIObject | undefined;

  /** Builds the document from the app's routes and every class-validator contract class. */
  build(app: INestApplication, version: string): void {
    const config = new DocumentBuilder()
      .setTitle('Vivified API')
      .setDescription(
        'The HTTP API of the Vivified gateway (ARCHITECTURE §7). Errors use the envelope of §3.',
      )
      .setVersion(version)
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'apiKey')
      .build();
    const document = SwaggerModule.createDocument(app, config);
    const schemas = validationMetadatasToSchemas({ refPointerPrefix: '#/components/schemas/' });
    document.components = {
      ...document.components,
      schemas: { ...schemas, ...errorSchemas, ...document.components?.schemas },
    };
    this.document = document;
  }

  get(): OpenAPIObject | undefined {
    return this.document;
  }
}

const errorSchemas = {
  ErrorEnvelope: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', example: 'POLICY_DENIED' },
          message: { type: 'string' },
          reason: { type: 'string', example: 'phi_trait_missing' },
          auditId: { type: 'string' },
          details: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                path: { type: 'string' },
                messages: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  },
};

/** `GET /v1/openapi.json`. */
@ApiExcludeController()
@PublicRoute()
@Controller()
export class OpenApiController {
  constructor(private readonly openApi: OpenApiDocument) {}

  @Get('v1/openapi.json')
  get(): OpenAPIObject | Record<string, never> {
    return this.openApi.get() ?? {};
  }
}
