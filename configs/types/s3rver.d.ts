// The part of s3rver's (untyped) API the tests use (the test S3 server; included by each tsconfig.spec.json that needs it).
declare module "s3rver" {
  import type { IncomingMessage, ServerResponse } from "node:http"
  interface S3rverOptions {
    readonly directory: string
    readonly silent?: boolean
    readonly configureBuckets?: ReadonlyArray<{ readonly name: string }>
  }
  export default class S3rver {
    constructor(options: S3rverOptions)
    configureBuckets(): Promise<void>
    callback(): (request: IncomingMessage, response: ServerResponse) => void
  }
}
