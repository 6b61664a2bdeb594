// A plain Node script (no TypeScript, no bundler): imports the client from
// the installed package and prints every event of one subscription as a JSON
// line, until `count` events arrived.
//   node client.mjs <gateway url> <symbol> <count>
import { createClient } from '@subway-sse/client';
import { EventSource } from 'eventsource';

const [url, symbol, count] = process.argv.slice(2);
const client = createClient({ url, EventSource });
let seen = 0;
const stop = client.subscribe('Ticks', { symbol }, {
  open: () => console.log(JSON.stringify({ open: true })),
  next: (result) => {
    console.log(JSON.stringify(result));
    if (++seen === Number(count)) stop();
  },
  error: (err) => {
    console.log(JSON.stringify({ error: { code: err.code, status: err.status, message: err.message } }));
    process.exitCode = 1;
  },
});
