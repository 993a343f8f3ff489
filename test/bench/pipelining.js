// Raw HTTP/1.1 clients on one connection each, for the benchmark's pipelining part: a keep-alive
// client (one request, its whole answer, the next) and a pipelining client that keeps sending as
// fast as its socket takes requests while it reads its answers. Loopback only; every loop is bounded
// by a request count and a deadline.
import net from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');

/** Counts whole answers (Content-Length framing) in a byte stream read in pieces. */
class AnswerCounter {
  answers = 0;
  notOk = 0;
  pending = Buffer.alloc(0);

  /** Takes the next bytes; returns how many answers they completed. */
  add(chunk) {
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let completed = 0;
    for (;;) {
      const end = data.indexOf(HEAD_END);
      if (end === -1) break;
      const head = data.toString('latin1', 0, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (data.length < end + 4 + length) break;
      if (!head.startsWith('HTTP/1.1 200 ')) this.notOk += 1;
      data = data.subarray(end + 4 + length);
      completed += 1;
    }
    this.answers += completed;
    this.pending = data;
    return completed;
  }
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Answers a second on one connection, one request at a time, for `seconds` or `maxRequests`. */
export async function keepAliveRate(port, target, seconds, maxRequests = 1_000_000) {
  const socket = await connect(port);
  socket.setNoDelay(true);
  const request = `GET ${target} HTTP/1.1\r\nhost: bench\r\n\r\n`;
  const counter = new AnswerCounter();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', resolve);
    socket.on('data', (chunk) => {
      if (counter.add(chunk) === 0) return;
      if (performance.now() < deadline && counter.answers < maxRequests) socket.write(request);
      else socket.destroy();
    });
    socket.write(request);
  });
  return result(counter, started);
}

/**
 * Answers a second on one connection that keeps sending (batches of 64 requests whenever its socket
 * takes more) while it reads its answers, for `seconds` or `maxRequests` sent; then it waits, at most
 * `seconds` more, for the answers to what it sent.
 */
export async function pipeliningRate(port, target, seconds, maxRequests = 1_000_000) {
  const socket = await connect(port);
  const batch = Buffer.from(`GET ${target} HTTP/1.1\r\nhost: bench\r\n\r\n`.repeat(64), 'latin1');
  const counter = new AnswerCounter();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let sent = 0;
  const send = () => {
    while (sent < maxRequests && performance.now() < deadline) {
      sent += 64;
      if (!socket.write(batch)) return; // 'drain' calls again
    }
  };
  await new Promise((resolve, reject) => {
    const cut = setTimeout(() => socket.destroy(), 2 * seconds * 1000);
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(cut);
      resolve();
    });
    socket.on('drain', send);
    socket.on('data', (chunk) => {
      counter.add(chunk);
      if (counter.answers >= sent && (sent >= maxRequests || performance.now() >= deadline)) socket.destroy();
    });
    send();
  });
  return { ...result(counter, started), sent };
}

function result(counter, started) {
  const seconds = (performance.now() - started) / 1000;
  return { answers: counter.answers, notOk: counter.notOk, rps: Math.round(counter.answers / seconds) };
}
