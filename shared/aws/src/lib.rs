//! AWS adapters: the ports on DynamoDB, S3, the API Gateway Management API and SQS.
//!
//! # Layout
//! - [`dynamodb`]: the six tables ([`DynamoStore`]), their schema and request costs.
//! - [`s3`]: attachments behind presigned URLs ([`S3BlobStore`]).
//! - [`management`]: pushes to WebSocket connections ([`ManagementApiPusher`]).
//! - [`sqs`]: delayed tasks on an SQS delay queue ([`SqsScheduler`]).
//! - [`cognito`]: the user directory on a Cognito user pool ([`CognitoDirectory`]).
//! - [`ses`]: email through SES v2 ([`SesMailer`]); [`secrets`]: the notification secret.
//!
//! Every client honours `AWS_ENDPOINT_URL` (the SDK reads it), so the same code runs
//! against AWS, LocalStack or moto.

pub mod cognito;
pub mod dynamodb;
pub mod management;
pub mod s3;
pub mod secrets;
pub mod ses;
pub mod sqs;

pub use cognito::CognitoDirectory;
pub use dynamodb::{DynamoStore, RequestStats, TableNames, create_tables};
pub use management::ManagementApiPusher;
pub use s3::S3BlobStore;
pub use ses::SesMailer;
pub use sqs::SqsScheduler;
