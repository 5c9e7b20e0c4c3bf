export * as ChunkedReading from "./ChunkedReading.js"
export * as CsvReader from "./CsvReader.js"
export * as LineReader from "./LineReader.js"
export * as Utf8Text from "./Utf8Text.js"
