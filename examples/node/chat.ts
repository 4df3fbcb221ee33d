// The chat example with types (checked by `npx tsc --noEmit -p examples/node`).
import { Server, Client, type OpenEvent, type MessageEvent, type ClientOptions } from 'ssews';

async function main(): Promise<void> {
  const server = new Server({ port: 0, history: 100, queue_policy: 'drop_oldest' });
  const base = `127.0.0.1:${server.port}`;

  server.on('open', (ev: OpenEvent) => {
    if (ev.headers['authorization'] !== 'Bearer let-me-in') return server.reject(ev.conn, 403);
    server.subscribe(ev.conn, 'lobby');
  });
  server.on('message', (ev: MessageEvent) => {
    const text = typeof ev.data === 'string' ? ev.data : ev.data.toString('base64');
    server.publish('lobby', `${ev.conn} says: ${text}`, { event: 'chat' });
  });
  server.on('error', (err) => console.error(err.code, err.errno, err.conn, err.message));

  const auth: ClientOptions = { headers: { Authorization: 'Bearer let-me-in' }, reconnect_delay_ms: 500 };
  const reader = new Client(`http://${base}/lobby`, auth);
  const alice = new Client(new URL(`ws://${base}/lobby`), auth);
  alice.on('open', () => alice.send('hello, room'));
  alice.on('reconnecting', (ev) => console.log(`retry ${ev.attempt} in ${ev.delay} ms`));
  alice.send(new Uint8Array([1, 2, 3]));

  for await (const ev of reader) {
    if (ev.type === 'message') {
      console.log(`reader: [${ev.event ?? 'message'}] ${String(ev.data)}`);
      break;
    }
    if (ev.type === 'reconnecting') console.log(`reader retries in ${ev.delay} ms`);
  }

  await Promise.all([reader.close(), alice.close(1000, 'bye')]);
  await server.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
