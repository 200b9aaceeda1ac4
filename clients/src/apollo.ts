// Apollo Client 4 as a front end would set it up: normalised cache with possibleTypes
// from the schema, Relay pagination on the growing lists, automatic persisted queries
// (GET by hash, the document by POST only after a miss).
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { relayStylePagination } from '@apollo/client/utilities';
import { createHash } from 'node:crypto';
import possibleTypesResult from './gql/possible-types.js';
import type { RecordingFetch } from './http.js';

export function apolloCache(): InMemoryCache {
  return new InMemoryCache({
    possibleTypes: possibleTypesResult.possibleTypes,
    typePolicies: {
      Customer: {
        fields: { invoices: relayStylePagination() },
      },
      Meter: {
        fields: { readings: relayStylePagination() },
      },
      BudgetPlan: {
        fields: { requests: relayStylePagination() },
      },
    },
  });
}

export function apolloClient(url: string, http: RecordingFetch): ApolloClient {
  const persisted = new PersistedQueryLink({
    sha256: (document: string) => createHash('sha256').update(document).digest('hex'),
    useGETForHashedQueries: true,
  });
  const link = ApolloLink.from([persisted, new HttpLink({ uri: url, fetch: http.fetch })]);
  return new ApolloClient({ link, cache: apolloCache() });
}
