// Copies the browser files of the pinned npm packages (package.json, package-lock.json) into the console's static
// folder, so the function app serves them itself: no CDN (offline-restricted browsers, offline tests). Run by
// `make install` and by azd's prepackage hook (azure.yaml); the copies are not committed (one source: the lock).
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const target = path.join(root, "shared", "console", "static", "vendor");
const FILES = {
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  "uplot/dist/uPlot.iife.min.js": "uPlot.iife.min.js",
  "uplot/dist/uPlot.min.css": "uPlot.min.css",
};

fs.mkdirSync(target, { recursive: true });
for (const [from, to] of Object.entries(FILES)) {
  fs.copyFileSync(path.join(root, "node_modules", from), path.join(target, to));
}
console.log(`vendored ${Object.keys(FILES).length} files into ${path.relative(root, target)}`);
