// Plays an RTMP stream with node-media-server's own RTMP client (NodeRtmpClient, the code its
// relay uses) for the given number of milliseconds, then stops it (deleteStream, close).
// Used by captures/make-captures.sh inside its network namespace.
const NodeRtmpClient = require('node-media-server/src/node_rtmp_client');
const url = process.argv[2];
const ms = parseInt(process.argv[3] || '2000', 10);
const client = new NodeRtmpClient(url);
let frames = 0;
client.on('video', () => { frames += 1; });
client.on('close', () => {
  console.log(`video messages received: ${frames}`);
  setTimeout(() => process.exit(0), 100);
});
client.startPull();
setTimeout(() => client.stop(), ms);
