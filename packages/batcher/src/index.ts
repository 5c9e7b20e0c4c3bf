export * as Batcher from "./Batcher.js"
export * as CsvEncoder from "./CsvEncoder.js"
export * as CsvValue from "./CsvValue.js"
export * as FieldMetadata from "./FieldMetadata.js"
