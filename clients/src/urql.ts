// urql as a front end would set it up: Graphcache with the schema's introspection
// (interfaces Node and UserError), relayPagination on the growing lists, keys for
// the types that are parts of their parent rather than entities, and the persisted
// exchange (GET by hash, the document only after a miss).
import { Client, fetchExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { persistedExchange } from '@urql/exchange-persisted';
import type { IntrospectionQuery } from 'graphql';
import introspection from './gql/introspection.json' with { type: 'json' };
import type { RecordingFetch } from './http.js';

/** Types without an ID: stored inside the object that holds them. */
const embedded = [
  'Account',
  'BaseData',
  'BudgetChangeRequestConnection',
  'BudgetChangeRequestEdge',
  'BudgetPlan',
  'BudgetProjection',
  'DueDate',
  'InvoiceConnection',
  'InvoiceEdge',
  'PageInfo',
  'ReadingConnection',
  'ReadingEdge',
  'ReadingWindow',
] as const;

export function urqlClient(
  url: string,
  http: RecordingFetch,
  options: { trustedDocumentsOnly?: boolean } = {},
): Client {
  const cache = cacheExchange({
    schema: introspection as unknown as IntrospectionQuery,
    keys: Object.fromEntries(embedded.map((name) => [name, () => null])),
    resolvers: {
      Customer: { invoices: relayPagination() },
      Meter: { readings: relayPagination() },
      BudgetPlan: { requests: relayPagination() },
    },
  });
  const persisted = persistedExchange({
    preferGetForPersistedQueries: true,
    enableForMutation: true,
    ...(options.trustedDocumentsOnly
      ? {
          // Trusted documents: send Code Generator's id ("sha256:<hex>"), never the text.
          enforcePersistedQueries: true,
          generateHash: async (_query, document) =>
            (document as { __meta__?: { hash?: string } }).__meta__?.hash,
        }
      : {}),
  });
  return new Client({
    url,
    fetch: http.fetch,
    exchanges: [cache, persisted, fetchExchange],
    requestPolicy: 'cache-first',
  });
}
