// Run inside a simulated host: writes to one customer through a router (cart adds; every
// `orderEvery`-th an order, never with 0) until `stopFile` exists, `maxRequests` were sent or `maxMs` passed. Prints `acked <n>` as it
// goes and, at the end, one JSON line: what was acknowledged, what was refused, and any 5xx.
import fs from 'node:fs';

const [router, customer, stopFile, maxRequests = '3000', maxMs = '120000', orderEvery = '7'] = process.argv.slice(2);
const tally = { ackedAdds: 0, ackedOrders: 0, refused: 0, serverErrors: [], unexpected: [] };
const deadline = Date.now() + Number(maxMs);

async function send(method, path, body) {
  try {
    const response = await fetch(`${router}/api/customers/${customer}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    return { status: 0, text: String(error?.cause?.code ?? error?.name) };
  }
}

for (let n = 1; n <= Number(maxRequests) && Date.now() < deadline && !fs.existsSync(stopFile); n += 1) {
  const order = Number(orderEvery) > 0 && n % Number(orderEvery) === 0;
  const { status, text } = order ? await send('POST', '/orders') : await send('POST', '/cart/items', { product_id: 'sku-cable', quantity: 1 });
  if (status >= 500 || status === 0) tally.serverErrors.push(`${status} ${text.slice(0, 200)}`);
  else if (order && status === 201) tally.ackedOrders += 1;
  else if (!order && status === 200) tally.ackedAdds += 1;
  else if (order && status === 400)
    continue; // an empty cart: nothing to order, nothing written
  else if (status >= 400) tally.refused += 1;
  else tally.unexpected.push(`${status} ${text.slice(0, 200)}`);
  if ((tally.ackedAdds + tally.ackedOrders) % 10 === 0 && status < 300) console.log(`acked ${tally.ackedAdds + tally.ackedOrders}`);
}
console.log(JSON.stringify(tally));
process.exit(0);
