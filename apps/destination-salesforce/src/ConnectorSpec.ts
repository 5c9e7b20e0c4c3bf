/**
 * The connector's SPEC: the seed's public parameters under their exact names, the OAuth
 * `advanced_auth` block, and optional extensions with defaults.
 */
import type { AirbyteMessage } from "@sfdc-activation/airbyte-protocol"

export const documentationUrl = "https://github.com/sfdc-activation/sfdc-activation/tree/main/apps/destination-salesforce"

const s3Storage = {
  title: "S3",
  type: "object",
  required: ["storage_type", "s3_bucket_name", "s3_bucket_region", "bucket_path"],
  properties: {
    storage_type: { type: "string", const: "S3", default: "S3", order: 0 },
    access_key_id: {
      title: "Access Key ID",
      type: "string",
      airbyte_secret: true,
      description: "Leave empty to use the default AWS credential chain.",
      order: 1
    },
    secret_access_key: { title: "Secret Access Key", type: "string", airbyte_secret: true, order: 2 },
    role_arn: { title: "Role ARN", type: "string", description: "An IAM role to assume for writing rejects.", order: 3 },
    s3_bucket_name: { title: "S3 Bucket Name", type: "string", examples: ["airbyte-rejects"], order: 4 },
    s3_bucket_region: { title: "S3 Bucket Region", type: "string", default: "us-east-1", examples: ["us-east-1"], order: 5 },
    s3_endpoint: {
      title: "S3 Endpoint",
      type: "string",
      description: "For S3-compatible storage (MinIO, R2…); path-style addressing is used with it.",
      examples: ["https://s3.example.com"],
      order: 6
    },
    bucket_path: {
      title: "Bucket Path",
      type: "string",
      description: "Prefix under which rejected records are written: {bucket_path}/{sync_id}/{namespace}/{stream}/…",
      examples: ["salesforce/rejects"],
      order: 7
    },
    format: { title: "Format", type: "string", enum: ["CSV", "JSONL"], default: "CSV", order: 8 },
    compression: { title: "Compression", type: "string", enum: ["NONE", "GZIP"], default: "NONE", order: 9 }
  }
}

export const connectionSpecification = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Salesforce Destination Spec",
  type: "object",
  required: ["client_id", "client_secret", "refresh_token", "is_sandbox", "auth_type"],
  additionalProperties: true,
  properties: {
    auth_type: { type: "string", const: "Client", default: "Client" },
    is_sandbox: {
      title: "Sandbox",
      type: "boolean",
      default: false,
      description: "Log in at test.salesforce.com (a sandbox) instead of login.salesforce.com.",
      order: 1
    },
    client_id: { title: "Client ID", type: "string", description: "The Connected App's consumer key.", order: 2 },
    client_secret: { title: "Client Secret", type: "string", airbyte_secret: true, order: 3 },
    refresh_token: { title: "Refresh Token", type: "string", airbyte_secret: true, order: 4 },
    object_storage_config: {
      title: "Rejected Records Storage",
      description: "Where records Salesforce refuses are kept, with their error.",
      type: "object",
      order: 5,
      oneOf: [
        {
          title: "None",
          type: "object",
          required: ["storage_type"],
          properties: { storage_type: { type: "string", const: "None", default: "None" } }
        },
        s3Storage
      ]
    },
    login_url: {
      title: "Login URL",
      type: "string",
      description: "Your My Domain login URL (https://NAME.my.salesforce.com). Overrides Sandbox. Plain http:// only for loopback hosts.",
      examples: ["https://acme.my.salesforce.com"],
      order: 6
    },
    api_version: { title: "API Version", type: "string", default: "62.0", pattern: "^[0-9]{2,3}\\.0$", order: 7 },
    batch_size_mb: {
      title: "Batch Size (MB)",
      type: "number",
      default: 100,
      exclusiveMinimum: 0,
      maximum: 100,
      description: "Largest CSV sent in one Bulk API job, in MiB.",
      order: 8
    },
    max_concurrent_jobs: { title: "Max Concurrent Jobs", type: "integer", default: 4, minimum: 1, maximum: 25, order: 9 },
    null_handling: {
      title: "Null Handling",
      type: "string",
      enum: ["CLEAR", "LEAVE"],
      default: "CLEAR",
      description: "CLEAR: a null value clears the Salesforce field (#N/A) on update and upsert. LEAVE: a null leaves it unchanged.",
      order: 10
    },
    max_batch_age_seconds: {
      title: "Max Batch Age (seconds)",
      type: "integer",
      default: 300,
      minimum: 1,
      maximum: 86400,
      description: "A stream's partial batch is sent this long after its first record, so its STATE messages are not held back waiting for the batch to fill. Lower: states sooner, more (smaller) jobs.",
      order: 11
    }
  }
}

export const advancedAuth = {
  auth_flow_type: "oauth2.0",
  predicate_key: ["auth_type"],
  predicate_value: "Client",
  oauth_config_specification: {
    oauth_user_input_from_connector_config_specification: {
      type: "object",
      additionalProperties: false,
      properties: { is_sandbox: { type: "boolean", path_in_connector_config: ["is_sandbox"] } }
    },
    complete_oauth_output_specification: {
      type: "object",
      additionalProperties: false,
      properties: { refresh_token: { type: "string", path_in_connector_config: ["refresh_token"] } }
    },
    complete_oauth_server_input_specification: {
      type: "object",
      additionalProperties: false,
      properties: { client_id: { type: "string" }, client_secret: { type: "string" } }
    },
    complete_oauth_server_output_specification: {
      type: "object",
      additionalProperties: false,
      properties: {
        client_id: { type: "string", path_in_connector_config: ["client_id"] },
        client_secret: { type: "string", path_in_connector_config: ["client_secret"] }
      }
    }
  }
} as const

export const specification: AirbyteMessage.ConnectorSpecification = {
  documentationUrl,
  connectionSpecification,
  supportsIncremental: true,
  supportsNormalization: false,
  supportsDBT: false,
  supported_destination_sync_modes: ["append", "append_dedup", "update", "soft_delete"],
  advanced_auth: advancedAuth,
  protocol_version: "0.5.2"
}
