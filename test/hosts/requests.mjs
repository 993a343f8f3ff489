// Run inside a simulated host: sends the requests given as JSON (argv[2]: [{method, url, body?, headers?}]) one
// after another and prints their answers as JSON: [{status, body, cell}] (status 0: no answer).
const requests = JSON.parse(process.argv[2]);
const answers = [];
for (const { method, url, body, headers = {} } of requests) {
  try {
    const response = await fetch(url, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    answers.push({ status: response.status, body: parsed, cell: response.headers.get('x-cellctl-cell') });
  } catch (error) {
    answers.push({ status: 0, body: String(error?.cause?.code ?? error?.name), cell: null });
  }
}
console.log(JSON.stringify(answers));
// A connect to a cut host lingers past its abort otherwise.
process.exit(0);
