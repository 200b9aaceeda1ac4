// The front-end toolchains against a running server: Apollo Client and urql each log
// in, read the dashboard by automatic persisted queries (GET by hash, the document
// only after a miss), page through invoices and readings with cursors, refetch by
// node(id:), read the budget, switch the customer and submit a reading, and their
// caches are checked. Any mismatch, and any warning the libraries print, exits 1.
//
//   node check.mjs --url http://127.0.0.1:8000/graphql --mail-dir var/mail [--partner-key kp_…]
//
// With --partner-key (a partner whose operations are Code Generator's
// persisted-documents.json, uploaded with `kundenportal partner upload`), urql runs the
// scenario a second time sending only the documents' ids ("sha256:<hex>").
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Client as BareUrql, fetchExchange } from '@urql/core';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { apolloClient } from './apollo.js';
import { reactionTo } from './errors.js';
import {
  AddCustomerNumberDocument,
  BudgetDocument,
  ConfirmPinDocument,
  CustomerInvoicesDocument,
  type CustomerInvoicesQuery,
  DashboardDocument,
  LoginDocument,
  MeterReadingsDocument,
  type MeterReadingsQuery,
  NodeByIdDocument,
  NodesByIdsDocument,
  RegisterDocument,
  SubmitReadingDocument,
  SwitchCustomerDocument,
} from './gql/graphql.js';
import { type RecordingFetch, recordingFetch } from './http.js';
import { mailsNow, waitForPin } from './mail.js';
import { urqlClient } from './urql.js';

type Vars = Record<string, unknown>;

/** What the scenario needs of a client library. */
interface Runner {
  name: string;
  /** Trusted documents: only Code Generator's ids are sent, never a document. */
  trusted: boolean;
  http: RecordingFetch;
  /** From the network, into the cache. */
  fetch<R, V extends Vars>(doc: TypedDocumentNode<R, V>, variables: V): Promise<R>;
  /** From the cache only; null when the cache cannot answer. */
  cached<R, V extends Vars>(doc: TypedDocumentNode<R, V>, variables: V): Promise<R | null>;
  mutate<R, V extends Vars>(doc: TypedDocumentNode<R, V>, variables: V): Promise<R>;
  /** Cache keys of normalised objects, where the library shows them. */
  normalisedKeys(): string[] | null;
}

class Mismatch extends Error {}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Mismatch(message);
}

function equal(actual: unknown, expected: unknown, message: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Mismatch(`${message}\n  expected ${e}\n  got      ${a}`);
}

// ------------------------------------------------------------------ warnings

const warnings: string[] = [];
for (const level of ['warn', 'error'] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
    original(...args);
  };
}

// ------------------------------------------------------------------ runners

function apolloRunner(url: string, auth: () => Record<string, string>): Runner {
  const http = recordingFetch(auth);
  const client = apolloClient(url, http);
  return {
    name: 'Apollo Client',
    trusted: false,
    http,
    async fetch(doc, variables) {
      const result = await client.query({ query: doc, variables, fetchPolicy: 'network-only' });
      expect(result.data, `Apollo: no data for ${JSON.stringify(variables)}`);
      return result.data as never;
    },
    async cached(doc, variables) {
      return (client.readQuery({ query: doc, variables }) ?? null) as never;
    },
    async mutate(doc, variables) {
      const result = await client.mutate({ mutation: doc, variables });
      expect(result.data, 'Apollo: a mutation without data');
      return result.data as never;
    },
    normalisedKeys: () => Object.keys(client.cache.extract() as object),
  };
}

function urqlRunner(url: string, auth: () => Record<string, string>, partnerKey?: string): Runner {
  const trusted = partnerKey !== undefined;
  const http = recordingFetch(() => ({ ...auth(), ...(trusted ? { 'X-Api-Key': partnerKey } : {}) }));
  const client = urqlClient(url, http, { trustedDocumentsOnly: trusted });
  return {
    name: trusted ? 'urql (trusted documents)' : 'urql',
    trusted,
    http,
    async fetch(doc, variables) {
      const result = await client
        .query(doc, variables as never, { requestPolicy: 'network-only' })
        .toPromise();
      expect(!result.error, `urql: ${result.error?.message}`);
      expect(result.data, 'urql: no data');
      return result.data as never;
    },
    async cached(doc, variables) {
      const result = await client
        .query(doc, variables as never, { requestPolicy: 'cache-only' })
        .toPromise();
      return (result.data ?? null) as never;
    },
    async mutate(doc, variables) {
      const result = await client.mutation(doc, variables as never).toPromise();
      expect(!result.error, `urql: ${result.error?.message}`);
      expect(result.data, 'urql: a mutation without data');
      return result.data as never;
    },
    normalisedKeys: () => null,
  };
}

// ------------------------------------------------------------------ the login

interface Login {
  email: string;
  password: string;
}

/** A confirmed login holding customers 100001 and 100002 of the demo data: registered
 * through the API (PIN from the mail folder) unless it exists already. */
async function ensureLogin(url: string, mailDir: string, login: Login): Promise<void> {
  let token = '';
  const http = recordingFetch((): Record<string, string> =>
    token ? { Authorization: `Bearer ${token}` } : {},
  );
  const bare = new BareUrql({ url, fetch: http.fetch, exchanges: [fetchExchange] });
  const run = async <R, V extends Vars>(doc: TypedDocumentNode<R, V>, variables: V) => {
    const result = await bare.mutation(doc, variables as never).toPromise();
    expect(!result.error && result.data, `set-up: ${result.error?.message}`);
    return result.data as R;
  };
  let loggedIn = (await run(LoginDocument, { input: login })).login;
  if (loggedIn.errors.length > 0) {
    const before = await mailsNow(mailDir);
    const registered = await run(RegisterDocument, {
      input: { customerNumber: '100001', meterNumber: 'Z-100001', ...login },
    });
    equal(registered.register.errors, [], 'register demo customer 100001');
    const pin = await waitForPin(mailDir, login.email, before);
    const confirmed = await run(ConfirmPinDocument, { input: { email: login.email, pin } });
    equal(
      [confirmed.confirmPin.errors, confirmed.confirmPin.confirmed],
      [[], true],
      'confirm the PIN',
    );
    loggedIn = (await run(LoginDocument, { input: login })).login;
  }
  equal(loggedIn.errors, [], 'set-up login');
  token = loggedIn.token ?? '';
  if (!loggedIn.account?.customerNumbers.includes('100002')) {
    const added = await run(AddCustomerNumberDocument, {
      input: { customerNumber: '100002', meterNumber: 'Z-100002' },
    });
    equal(added.addCustomerNumber.errors, [], 'add customer 100002');
  }
}

// ------------------------------------------------------------------ the scenario

/** The dashboard is read by hash: the first read may miss once (then the document is
 * sent, with its hash), every later read is a GET with the hash alone. */
function expectPersisted(http: RecordingFetch, what: string, first: boolean): void {
  const sent = http.since();
  const [ask, ...more] = sent;
  expect(ask, `${what}: nothing was sent`);
  expect(
    ask.method === 'GET' && ask.withHash && !ask.withDocument,
    `${what}: expected a GET with the hash alone, got ${JSON.stringify(sent)}`,
  );
  if (first && ask.errorCode === 'PERSISTED_QUERY_NOT_FOUND') {
    const [register, ...rest] = more;
    expect(
      register && register.withDocument && register.withHash && register.errorCode === null,
      `${what}: after the miss the document should follow with its hash: ${JSON.stringify(sent)}`,
    );
    equal(rest, [], `${what}: one miss, one registration`);
    return;
  }
  expect(
    ask.errorCode === null && ask.status === 200,
    `${what}: the hash should be known: ${JSON.stringify(ask)}`,
  );
  equal(more, [], `${what}: one request`);
}

async function scenario(runner: Runner, login: Login, tokens: { token: string; device: string }) {
  const step = (text: string) => console.log(`  ${runner.name}: ${text}`);

  // Login, with the error branch typed as UserError.
  const wrong = await runner.mutate(LoginDocument, {
    input: { email: login.email, password: `${login.password}-wrong` },
  });
  const [loginError] = wrong.login.errors;
  expect(loginError, 'a wrong password answers an error');
  equal(loginError.code, 'INVALID_CREDENTIALS', 'wrong password code');
  equal(reactionTo(loginError.code), 'fix-input', 'reaction to a wrong password');
  const loggedIn = await runner.mutate(LoginDocument, { input: login });
  equal(loggedIn.login.errors, [], 'login');
  expect(loggedIn.login.token, 'login gives a token');
  tokens.token = loggedIn.login.token;
  tokens.device = loggedIn.login.deviceToken ?? tokens.device;
  step('logged in');

  // The dashboard by APQ: a miss, then by hash alone.
  runner.http.mark();
  const dashboard = await runner.fetch(DashboardDocument, { invoicesFirst: 1 });
  expectPersisted(runner.http, 'dashboard, first read', !runner.trusted);
  runner.http.mark();
  const again = await runner.fetch(DashboardDocument, { invoicesFirst: 1 });
  expectPersisted(runner.http, 'dashboard, second read', false);
  equal(again, dashboard, 'the dashboard read twice');
  equal(
    dashboard.customers.map((c) => c.number).sort(),
    ['100001', '100002'],
    'dashboard customers',
  );
  const erika = dashboard.customers.find((c) => c.number === '100001');
  expect(erika, 'customer 100001 on the dashboard');
  const main = erika.meters.find((m) => m.isMain);
  expect(main, 'a main meter');
  expect(main.readingWindow.state, 'a reading window');
  expect(main.lastReading, 'a last reading');
  step(`dashboard by persisted query (${runner.http.log.filter((e) => e.method === 'GET').length} GETs)`);

  const keys = runner.normalisedKeys();
  if (keys !== null) {
    for (const prefix of ['Customer:', 'Invoice:', 'Meter:', 'Reading:']) {
      expect(
        keys.some((key) => key.startsWith(prefix)),
        `${runner.name}: nothing normalised as ${prefix}<id>: ${keys.join(', ')}`,
      );
    }
    expect(keys.includes(`Customer:${erika.id}`), 'the customer is normalised by its id');
  }

  // Invoices page by page with cursors; the cache merges them into one list.
  // Both caches answer a page with the pages merged so far (relayStylePagination,
  // relayPagination): the list grows by one page each time.
  let invoiceIds: string[] = [];
  let after: string | null = null;
  let total = -1;
  for (let page = 1; page <= 50; page++) {
    const result: CustomerInvoicesQuery = await runner.fetch(CustomerInvoicesDocument, {
      ref: { number: '100001' },
      first: 1,
      after,
    });
    const connection = result.customer?.invoices;
    expect(connection, 'invoices connection');
    total = connection.totalCount;
    invoiceIds = connection.edges.map((edge) => edge.node.id);
    equal(invoiceIds.length, Math.min(page, total), `invoices merged after page ${page}`);
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
    expect(after, 'a next page has an end cursor');
  }
  expect(total >= 2, `customer 100001 has at least two invoices (has ${total})`);
  equal(invoiceIds.length, total, 'every invoice once over the pages');
  equal(new Set(invoiceIds).size, total, 'no invoice twice');
  equal(invoiceIds[0], erika.invoices.edges[0]?.node.id, 'the first page is the dashboard page');
  const merged = await runner.cached(DashboardDocument, { invoicesFirst: 1 });
  const mergedErika = merged?.customers.find((c) => c.number === '100001');
  equal(
    mergedErika?.invoices.edges.map((edge) => edge.node.id),
    invoiceIds,
    'the cache merged the pages into the dashboard list',
  );
  step(`${total} invoices paged with cursors and merged in the cache`);

  // Readings of the main meter, two at a time, newest first.
  let readings: { id: string; readOn: string }[] = [];
  let readingsAfter: string | null = null;
  let readingsTotal = -1;
  for (let page = 1; page <= 50; page++) {
    const result: MeterReadingsQuery = await runner.fetch(MeterReadingsDocument, {
      customer: { number: '100001' },
      meter: { number: main.number },
      first: 2,
      after: readingsAfter,
    });
    const connection = result.customer?.meter?.readings;
    expect(connection, 'readings connection');
    readingsTotal = connection.totalCount;
    readings = connection.edges.map((edge) => edge.node);
    equal(readings.length, Math.min(2 * page, readingsTotal), `readings merged after page ${page}`);
    if (!connection.pageInfo.hasNextPage) break;
    readingsAfter = connection.pageInfo.endCursor;
  }
  equal(readings.length, readingsTotal, 'every reading once');
  equal(new Set(readings.map((r) => r.id)).size, readingsTotal, 'no reading twice');
  const dates = readings.map((r) => r.readOn);
  equal(dates, [...dates].sort().reverse(), 'readings newest first');
  equal(readings[0]?.id, main.lastReading.id, 'the newest reading is the last reading');
  step(`${readingsTotal} readings paged with after`);

  // Refetch by node(id:) and nodes(ids:).
  const invoiceId = invoiceIds[invoiceIds.length - 1];
  expect(invoiceId, 'an invoice id');
  const invoiceNode = (await runner.fetch(NodeByIdDocument, { id: invoiceId })).node;
  expect(invoiceNode?.__typename === 'Invoice', `node(id:) of an invoice: ${JSON.stringify(invoiceNode)}`);
  equal(invoiceNode.id, invoiceId, 'node(id:) answers the same id');
  const meterNode = (await runner.fetch(NodeByIdDocument, { id: main.id })).node;
  expect(meterNode?.__typename === 'Meter', 'node(id:) of a meter');
  equal(meterNode.number, main.number, 'node(id:) meter number');
  const customerNode = (await runner.fetch(NodeByIdDocument, { id: erika.id })).node;
  expect(customerNode?.__typename === 'Customer', 'node(id:) of a customer');
  equal(customerNode.number, '100001', 'node(id:) customer number');
  const nodes = (await runner.fetch(NodesByIdsDocument, { ids: [erika.id, 'nonsense', main.id] })).nodes;
  equal(
    nodes.map((node) => node && [node.__typename, node.id]),
    [['Customer', erika.id], null, ['Meter', main.id]],
    'nodes(ids:) in order, null for an unknown id',
  );
  step('refetched by node(id:) and nodes(ids:)');

  // The budget view.
  const budget = await runner.fetch(BudgetDocument, { customer: { number: '100001' } });
  expect(budget.customer, 'the budget view has the customer');
  const plan = budget.customer.budgetPlan;
  if (plan) {
    expect(plan.minimumCents <= plan.amountCents && plan.amountCents <= plan.maximumCents, 'amount in range');
    equal(plan.requests.edges.length <= 5, true, 'at most 5 requests');
  }
  step(`budget view (${plan ? `${plan.amountCents} cents ${plan.rhythm}` : 'no plan'})`);

  // switchCustomer: to the other number and back.
  for (const number of ['100002', '100001']) {
    const switched = await runner.mutate(SwitchCustomerDocument, { input: { customerNumber: number } });
    equal(switched.switchCustomer.errors, [], `switchCustomer ${number}`);
    equal(switched.switchCustomer.customer?.number, number, 'the switched customer');
    equal(switched.switchCustomer.customer?.isActive, true, 'now active');
  }
  step('switched customer');

  // submitReading naming the customer; typed errors first, then one that is taken.
  const unknown = await runner.mutate(SubmitReadingDocument, {
    input: { customer: { number: '999999' }, meterNumber: main.number, value: '1' },
  });
  const [notFound] = unknown.submitReading.errors;
  equal(
    notFound && [notFound.code, notFound.field],
    ['NOT_FOUND', ['input', 'customer']],
    'a customer not the login\'s',
  );
  const last = Number(main.lastReading.value);
  const below = await runner.mutate(SubmitReadingDocument, {
    input: { customer: { number: '100001' }, meterNumber: main.number, value: '1.000' },
  });
  const [tooLow] = below.submitReading.errors;
  expect(tooLow, `a value below the last reading is refused: ${JSON.stringify(below)}`);
  equal([tooLow.code, tooLow.field], ['BELOW_LAST_READING', ['input', 'value']], 'too low');
  equal(reactionTo(tooLow.code), 'fix-input', `reaction to ${tooLow.code}`);
  const submitted = await runner.mutate(SubmitReadingDocument, {
    input: {
      customer: { number: '100001' },
      meterNumber: main.number,
      value: (last + 3).toFixed(3),
      confirmUnusual: true,
      idempotencyKey: randomUUID(),
    },
  });
  const payload = submitted.submitReading;
  expect(
    payload.errors.length === 0 || payload.errors.every((e) => e.code === 'OUTSIDE_READING_PERIOD'),
    `submitReading: ${JSON.stringify(payload.errors)}`,
  );
  if (payload.reading) {
    equal(Number(payload.reading.value), last + 3, 'the reading as submitted');
    equal(payload.meter?.id, main.id, 'the payload names the meter');
    const after = await runner.cached(DashboardDocument, { invoicesFirst: 1 });
    const meterAfter = after?.customers
      .find((c) => c.number === '100001')
      ?.meters.find((m) => m.id === main.id);
    equal(
      meterAfter?.lastReading?.id,
      payload.reading.id,
      'the cache updated the meter\'s last reading from the payload',
    );
    step(`submitted reading ${payload.reading.value}; the cached dashboard shows it`);
  } else {
    step(`reading period closed: ${payload.errors[0]?.code}`);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      'mail-dir': { type: 'string' },
      'partner-key': { type: 'string' },
      email: { type: 'string', default: 'clients-check@example.org' },
      password: { type: 'string', default: 'Tiefbrunnen#42' },
    },
  });
  if (!values.url || !values['mail-dir']) {
    console.log('usage: node check.mjs --url http://127.0.0.1:8000/graphql --mail-dir var/mail');
    return 2;
  }
  const url = values.url;
  const login: Login = { email: values.email, password: values.password };
  await ensureLogin(url, values['mail-dir'], login);
  console.log(`checking ${url} as ${login.email}`);
  const partnerKey = values['partner-key'];
  const makers = [
    apolloRunner,
    urqlRunner,
    ...(partnerKey ? [(u: string, a: () => Record<string, string>) => urqlRunner(u, a, partnerKey)] : []),
  ];
  for (const make of makers) {
    const tokens = { token: '', device: '' };
    const auth = (): Record<string, string> => ({
      ...(tokens.token ? { Authorization: `Bearer ${tokens.token}` } : {}),
      ...(tokens.device ? { 'X-Device-Token': tokens.device } : {}),
    });
    const runner = make(url, auth);
    await scenario(runner, login, tokens);
    const refused = runner.http.log.filter((e) => e.status >= 400);
    equal(refused, [], `${runner.name}: requests refused`);
    if (runner.trusted) {
      const withDocument = runner.http.log.filter((e) => e.withDocument || !e.withHash);
      equal(withDocument, [], `${runner.name}: every request by its id alone`);
    }
  }
  if (warnings.length > 0) {
    console.log(`FAILED: the libraries warned ${warnings.length} time(s).`);
    return 1;
  }
  console.log(`clients check passed: ${partnerKey ? 'Apollo Client, urql, urql with trusted documents' : 'Apollo Client and urql'}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    if (!(error instanceof Mismatch)) console.log(error);
    process.exit(1);
  },
);

