// Run as a child process by the abuse tests, so that its own work does not stall the server it
// measures: speaks Socket.IO by hand over a raw WebSocket to the spectators' namespace, stops
// reading from the connection, sends `count` race:join events each asking for an answer, says
// "sent" on stdout, and waits to be killed. Arguments: server URL, count, race id.
import WebSocket from 'ws';

const [url, countText, raceId] = process.argv.slice(2);
if (!url || !countText || !raceId) throw new Error('usage: unread-flooder <url> <count> <raceId>');
const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
ws.on('error', (err) => process.stderr.write(`${err.message}\n`));
ws.on('message', (data) => {
  const text = data.toString();
  if (text.startsWith('0')) ws.send('40'); // engine.io open: connect to the namespace "/"
  else if (text.startsWith('40')) flood(); // connected
});

function flood(): void {
  ws.removeAllListeners('message');
  // Nothing the server sends from now on is taken in: its answers pile up on its side.
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const join = JSON.stringify(['race:join', { raceId }]);
  for (let id = 0; id < Number(countText); id++) ws.send(`42${id}${join}`);
  process.stdout.write('sent\n');
}
