// Preloaded into third-party Node servers under test (node --require): every listen() on a bare
// port is bound to 127.0.0.1 instead of all interfaces, so interoperability tests never expose a
// server beyond loopback. Written for mcpcert; changes nothing else.
'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  const bare = typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first));
  if (bare) {
    const callback = args.find((a) => typeof a === 'function');
    return callback
      ? listen.call(this, { port: Number(first), host: '127.0.0.1' }, callback)
      : listen.call(this, { port: Number(first), host: '127.0.0.1' });
  }
  return listen.apply(this, args);
};
