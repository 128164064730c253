#!/usr/bin/env node
// A committed entry point, so npm can link the `gatehouse` command at install time, before anything is built.
await import('../dist/cli/bin.js');
