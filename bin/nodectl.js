#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in build/ (npm run build).
import "../build/cmd/nodectl.js";
