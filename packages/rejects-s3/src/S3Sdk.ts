/**
 * The parts of the AWS SDK the S3 store uses. `S3Store` imports this module on first use, so a
 * process that keeps its rejects on disk (or nowhere) never loads the SDK: in a bundled app it is
 * a chunk of its own, over half the code, read only when a bucket is used.
 */
export {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand
} from "@aws-sdk/client-s3"
export { fromTemporaryCredentials } from "@aws-sdk/credential-providers"
