// Preloaded with `node --require` by the interop tests: server-everything calls
// app.listen(PORT) with no host, which would bind every interface. Force any
// listen() that names a port but no host onto 127.0.0.1 instead.
"use strict";
const net = require("node:net");
const origListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    if (typeof args[1] !== "string") {
      args.splice(1, 0, "127.0.0.1");
    }
  } else if (first && typeof first === "object" && !Array.isArray(first) && first.port !== undefined && first.host === undefined && first.path === undefined) {
    args[0] = { ...first, host: "127.0.0.1" };
  }
  return origListen.apply(this, args);
};
