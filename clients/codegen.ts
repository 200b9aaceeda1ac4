// GraphQL Code Generator: typed documents (client preset, persisted-document ids
// "sha256:<hex>"), Apollo's possibleTypes and urql Graphcache's introspection, all
// from the committed schema.graphql. Output goes to src/gql/ (git-ignored).
import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['operations/**/*.graphql'],
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      // The caches need __typename on every object; the persisted documents (run by
      // the server as they are, for partners) must carry it too.
      documentTransforms: [addTypenameSelectionDocumentTransform],
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { hashAlgorithm: 'sha256' },
      },
      config: {
        strictScalars: true,
        scalars: {
          Date: 'string',
          DateTime: 'string',
          Decimal: 'string',
          JSON: 'unknown',
          Upload: 'Blob',
        },
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
      },
    },
    './src/gql/possible-types.ts': {
      plugins: ['fragment-matcher'],
      config: { apolloClientVersion: 3, useExplicitTyping: true },
    },
    './src/gql/introspection.json': {
      plugins: ['introspection'],
      config: { minify: true },
    },
  },
  hooks: {},
};

export default config;
