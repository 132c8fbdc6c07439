// class-transformer keeps @Type metadata in a module its package does not type; class-validator-jsonschema reads it
declare module 'class-transformer/cjs/storage' {
  import type { MetadataStorage } from 'class-transformer/types/MetadataStorage';

  export const defaultMetadataStorage: MetadataStorage;
}
