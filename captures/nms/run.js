// Starts node-media-server's RTMP server on the port given as the first argument.
// Used by captures/make-captures.sh inside its network namespace.
const NodeMediaServer = require('node-media-server');
const port = parseInt(process.argv[2] || '1935', 10);
new NodeMediaServer({
  logType: 1,
  rtmp: { port, chunk_size: 60000, gop_cache: true, ping: 30, ping_timeout: 60 },
}).run();
