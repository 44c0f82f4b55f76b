// @tus/server (the official Node tus 1.0 server) with @tus/file-store, on 127.0.0.1 for the interop tests.
// Usage: PORT=... DATA_DIR=... node tus-server.mjs   (copied next to .ci/work/node/node_modules by the tests)
import http from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const tus = new Server({
  path: '/files',
  datastore: new FileStore({ directory: process.env.DATA_DIR }),
  relativeLocation: true,
});
http.createServer((req, res) => tus.handle(req, res))
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
