// The origin for tcp.mjs, in its own process: one TCP listener on 127.0.0.1 whose first byte from a
// client picks what it does.
//   'B'  bulk: the origin sends <bytes> bytes (1 MiB writes, with backpressure), then ends the connection;
//   'P'  ping-pong: every later byte is echoed at once (no delay).
//
//   node tcp-origin-child.mjs <bytes> <max lifetime s>
//
// Prints one JSON line { port } once listening; exits on SIGTERM/SIGINT, or by itself (code 2) after
// <max lifetime s>, in case the parent is gone. Node 20 built-ins only.

import net from 'node:net';

const [bytesText, lifetimeText = '600'] = process.argv.slice(2);
const total = Number(bytesText);
if (!(total > 0)) {
  console.error('usage: node tcp-origin-child.mjs <bytes> [max lifetime s]');
  process.exit(64);
}
const block = Buffer.alloc(1024 * 1024, 0x61);

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  socket.once('data', (first) => {
    if (first[0] === 0x42) sendBulk(socket);
    else if (first[0] === 0x50) {
      if (first.length > 1) socket.write(first.subarray(1));
      socket.on('data', (chunk) => socket.write(chunk));
    } else socket.destroy();
  });
});

/** Writes `total` bytes in 1 MiB blocks, waiting for 'drain' whenever the socket's buffer is full. */
function sendBulk(socket) {
  let left = total;
  const pump = () => {
    while (left > 0) {
      const piece = left >= block.length ? block : block.subarray(0, left);
      left -= piece.length;
      if (!socket.write(piece)) return socket.once('drain', pump);
    }
    socket.end();
  };
  pump();
}

server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
const lifetime = setTimeout(() => process.exit(2), Number(lifetimeText) * 1000);
lifetime.unref();
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
