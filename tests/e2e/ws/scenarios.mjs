// Subscriptions through the reference client, the `graphql-ws` library, against a running API.
// Usage: node scenarios.mjs http://host:port/graphql TOKEN  -> prints one JSON object of findings.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const http = process.argv[2];
const url = http.replace(/^http/, "ws");
const authorization = `Bearer ${process.argv[3]}`;

function client() {
  return createClient({
    url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true,
    connectionParams: { Authorization: authorization },
  });
}

async function post(query, variables) {
  const response = await fetch(http, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: authorization },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const CREATE = `mutation($input: CreateProductInput!, $wait: Wait) {
  createProduct(input: $input, wait: $wait) { commandId aggregateId status token } }`;
const PRICE = `mutation($input: ChangeProductPriceInput!) {
  changeProductPrice(input: $input, wait: VISIBLE) { status token } }`;
const DELETE = `mutation($input: DeleteProductInput!) {
  deleteProduct(input: $input, wait: VISIBLE) { status token } }`;

function product() {
  const sku = `WS-${Math.random().toString(36).slice(2, 12).toUpperCase()}`;
  return { sku, name: "Socket", price: { amount: 100, currency: "EUR" } };
}

// Collect `count` results of a subscription (or all of them until it completes).
function collect(c, query, variables, count) {
  const results = [];
  let stop, started;
  const first = new Promise((resolve) => { started = resolve; });
  const done = new Promise((resolve, reject) => {
    stop = c.subscribe(
      { query, variables },
      {
        next: (result) => {
          results.push(result);
          started(result);
          if (count && results.length >= count) resolve(results);
        },
        error: (error) => reject(error instanceof Error ? error : new Error(`${JSON.stringify(error)} ${error.code ?? ""} ${error.reason ?? ""}`)),
        complete: () => resolve(results),
      },
    );
  });
  return { done, first, stop: () => stop() };
}

function within(promise, ms, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);
}

async function headPosition() {
  const data = await post(`{ events(first: 0) { pageInfo { endCursor } } }`, {});
  let cursor = data.events.pageInfo.endCursor;
  for (;;) {
    const page = await post(`query($after: String) { events(first: 1000, after: $after) {
      pageInfo { endCursor hasNextPage } } }`, { after: cursor });
    cursor = page.events.pageInfo.endCursor ?? cursor;
    if (!page.events.pageInfo.hasNextPage) return cursor ?? "0";
  }
}

const findings = {};

// A query and a mutation over the socket: one result each, then complete.
{
  const c = client();
  const query = await within(collect(c, "{ __typename }", {}, 0).done, 10000, "query");
  const created = await within(collect(c, CREATE, { input: product(), wait: "VISIBLE" }, 0).done, 10000, "mutation");
  findings.query = query;
  findings.mutationStatus = created[0].data.createProduct.status;
  await c.dispose();
}

// commandUpdated: the command now, then once more when handled; then complete.
{
  const c = client();
  const receipt = (await post(CREATE, { input: product() })).createProduct;
  const updates = await within(
    collect(c, `subscription($id: ID!) { commandUpdated(id: $id) { id status token } }`, { id: receipt.commandId }, 0).done,
    20000,
    "commandUpdated",
  );
  findings.commandUpdated = updates.map((r) => r.data.commandUpdated.status);
  findings.commandToken = updates.at(-1).data.commandUpdated.token;
  await c.dispose();
}

// productChanged: each change of the read model, then null once deleted.
{
  const c = client();
  const id = (await post(CREATE, { input: product(), wait: "VISIBLE" })).createProduct.aggregateId;
  const changes = collect(c, `subscription($id: ID!) { productChanged(id: $id) { version price { amount } } }`, { id }, 4);
  await within(changes.first, 20000, "productChanged's first answer: the product now");
  await post(PRICE, { input: { id, price: { amount: 250, currency: "EUR" } } });
  await post(PRICE, { input: { id, price: { amount: 300, currency: "EUR" } } });
  await post(DELETE, { input: { id } });
  const seen = await within(changes.done, 20000, "productChanged");
  changes.stop();
  findings.productChanged = seen.map((r) => r.data.productChanged);
  await c.dispose();
}

// events: from a cursor, then live; a reconnect resuming from the last position seen gives no
// gap and no repeat.
{
  const start = await headPosition();
  const EVENTS = `subscription($after: String) { events(after: $after) { position type streamId } }`;
  const first = client();
  const live = collect(first, EVENTS, { after: start }, 3);
  for (let n = 0; n < 3; n++) await post(CREATE, { input: product(), wait: "HANDLED" });
  const before = await within(live.done, 20000, "first three events");
  live.stop();
  await first.dispose();
  for (let n = 0; n < 4; n++) await post(CREATE, { input: product(), wait: "HANDLED" });
  const second = client();
  const resumed = collect(second, EVENTS, { after: before.at(-1).data.events.position }, 5);
  await post(CREATE, { input: product(), wait: "HANDLED" });
  const after = await within(resumed.done, 20000, "resumed events");
  resumed.stop();
  await second.dispose();
  findings.start = start;
  findings.events = [...before, ...after].map((r) => Number(r.data.events.position));
}

// The server's refusals reach the client as errors.
{
  const c = client();
  try {
    await within(collect(c, `subscription { events(after: "x") { position } }`, {}, 0).done, 10000, "bad cursor");
    findings.badCursor = "no error";
  } catch (error) {
    findings.badCursor = String(error.message);
  }
  await c.dispose();
}

console.log(JSON.stringify(findings));
process.exit(0);
