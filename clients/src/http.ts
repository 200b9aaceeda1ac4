// A fetch that records what went over the wire, so the check can prove how Apollo
// Client and urql used the API (GET by hash, POST with the document after a miss).

export interface Exchange {
  method: string;
  /** The request carried the document text (`query`), not only its hash. */
  withDocument: boolean;
  /** The request carried `extensions.persistedQuery.sha256Hash`. */
  withHash: boolean;
  operationName: string | null;
  status: number;
  /** `extensions.code` of the answer's first error, if any. */
  errorCode: string | null;
}

export interface RecordingFetch {
  fetch: typeof fetch;
  log: Exchange[];
  /** The exchanges since `mark()` was last called. */
  since(): Exchange[];
  mark(): void;
}

function requestParts(url: string, init: RequestInit | undefined) {
  const method = (init?.method ?? 'GET').toUpperCase();
  if (method === 'GET') {
    const params = new URL(url).searchParams;
    return {
      method,
      query: params.get('query'),
      extensions: params.get('extensions'),
      operationName: params.get('operationName'),
    };
  }
  const body = JSON.parse(String(init?.body ?? '{}')) as {
    query?: string;
    extensions?: unknown;
    operationName?: string;
  };
  return {
    method,
    query: body.query ?? null,
    extensions: body.extensions === undefined ? null : JSON.stringify(body.extensions),
    operationName: body.operationName ?? null,
  };
}

export function recordingFetch(headers: () => Record<string, string>): RecordingFetch {
  const log: Exchange[] = [];
  let mark = 0;
  const wrapped: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const parts = requestParts(url, init);
    const merged = new Headers(init?.headers);
    for (const [name, value] of Object.entries(headers())) merged.set(name, value);
    const response = await fetch(input, { ...init, headers: merged });
    const text = await response.clone().text();
    let errorCode: string | null = null;
    try {
      const parsed = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
      errorCode = parsed.errors?.[0]?.extensions?.code ?? null;
    } catch {
      errorCode = `unparsable answer (${response.status})`;
    }
    log.push({
      method: parts.method,
      withDocument: parts.query !== null && parts.query !== '',
      withHash: parts.extensions?.includes('sha256Hash') ?? false,
      operationName: parts.operationName,
      status: response.status,
      errorCode,
    });
    return response;
  };
  return {
    fetch: wrapped,
    log,
    since: () => log.slice(mark),
    mark: () => {
      mark = log.length;
    },
  };
}
