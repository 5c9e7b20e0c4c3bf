export * as ChunkedReading from "./ChunkedReading.js"
export * as CsvReader from "./CsvReader.js"
export * as LineReader from "./LineReader.js"
