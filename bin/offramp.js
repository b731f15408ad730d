#!/usr/bin/env node
// Thin shim: all logic lives in the compiled CLI (npm run build).
import('../dist/cli.js').then((m) => m.main(process.argv));
