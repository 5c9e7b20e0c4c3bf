/**
 * The Airbyte protocol v0.18: message models, a streaming reader and a writer.
 */
export * as AirbyteMessage from "./AirbyteMessage.js"
export * as LosslessNumbers from "./LosslessNumbers.js"
export * as MessageReader from "./MessageReader.js"
export * as MessageWriter from "./MessageWriter.js"
export * as StateLine from "./StateLine.js"
