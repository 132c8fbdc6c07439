// class-transformer keeps its decorator metadata in a module it does not re-export; its types are published apart
declare module 'class-transformer/cjs/storage' {
  export { defaultMetadataStorage } from 'class-transformer/types/storage';
}
