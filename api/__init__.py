"""The API as its clients meet it: GraphQL over HTTP, persisted documents, limits, GraphiQL."""
