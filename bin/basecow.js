#!/usr/bin/env node
// Runs the compiled tree of a checkout (npm install builds it); dist/cli.js is the bundled twin.
import '../build/src/cli/index.js';
