// Bundles the connector into one runnable file: dist/main.js.
import { bundleApp } from "../../configs/bundle-app.mjs"

await bundleApp()
