// @uploadx/core's tus 1.0 handler (verifies Upload-Checksum; answers the last PATCH with 200 and JSON),
// on 127.0.0.1 for the interop tests. Usage: PORT=... DATA_DIR=... node uploadx-server.mjs
import http from 'node:http';
import { tus } from '@uploadx/core';

const handler = tus({ directory: process.env.DATA_DIR, basePath: '/files', maxFileSize: '10GB' });
http.createServer((req, res) => handler(req, res))
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
