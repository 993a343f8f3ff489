// The baseline proxy for the benchmark: Node's http server and an undici keep-alive pool, with no
// routing, limits or metrics. It shows what any Node.js proxy costs on this machine.
import http from 'node:http';
import { Pool } from 'undici';

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 64 });
http
  .createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const { host, connection, 'content-length': _length, ...headers } = req.headers;
      pool
        .stream({ path: req.url, method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : null }, ({ statusCode, headers: out }) => {
          res.writeHead(statusCode, out);
          return res;
        })
        .catch(() => {
          res.statusCode = 502;
          res.end();
        });
    });
  })
  .listen(listenPort, '127.0.0.1', () => process.send?.('ready'));
