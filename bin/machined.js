#!/usr/bin/env node
// Thin launcher: the compiled node daemon lives in build/ (npm run build).
import "../build/cmd/machined.js";
