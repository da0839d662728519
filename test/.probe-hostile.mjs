import { Client } from 'undici';
import { createServer } from 'node:net';
const mode = process.argv[2];
let conns = 0;
const srv = createServer((s) => {
  const c = ++conns;
  s.on('error', (e) => console.log('server sock err', c, e.code));
  s.on('close', () => console.log('server sock close', c));
  let got = false;
  s.on('data', () => {
    if (got) return; got = true;
    console.log('server got request on conn', c);
    s.write('HTTP/1.1 413 X\r\ncontent-length: 4\r\n\r\nnope'); if (mode === 'fin') s.end();
  });
});
await new Promise((r) => srv.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${srv.address().port}`;
const body = Buffer.alloc(8 << 20, 'x');
const client = new Client(origin, { pipelining: 1 });
client.on('connect', () => console.log('client connect'));
client.on('disconnect', (_o, _c, e) => console.log('client disconnect', e.code, e.message));
let n = 0;
await new Promise((resolve) => {
  const handler = {
    onConnect() {}, onHeaders(s) { console.log('headers', s); return true; }, onData() { return true; },
    onComplete() { console.log('complete'); next(); }, onError(e) { console.log('error', e.code, e.message, e.cause?.code); setImmediate(next); },
  };
  const next = () => { if (n++ < 4) { const dispatching = true; client.dispatch({ origin, path: '/', method: 'POST', body, headers: [] }, handler); } else resolve(); };
  next();
});
await client.destroy();
srv.close();
