#!/usr/bin/env node
// Entry point installed as `picospike`; the bundle is built by `npm run build` (and on `npm ci`).
import "../dist/picospike.js";
