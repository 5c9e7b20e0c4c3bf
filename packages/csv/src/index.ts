export * as CsvReader from "./CsvReader.js"
