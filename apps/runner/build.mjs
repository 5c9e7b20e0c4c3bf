// Bundles the runner into dist/main.js; DuckDB's native binding and the PostgreSQL driver stay external.
import { bundleApp } from "../../configs/bundle-app.mjs"

await bundleApp({ external: ["@duckdb/*", "postgres"] })
