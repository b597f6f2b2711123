//! Pushes to WebSocket connections through the API Gateway Management API
//! (`POST @connections/{id}`), and closes them (`DELETE @connections/{id}`, when an admin
//! disables a user). The same client talks to AWS, or to the local gateway's
//! `@connections` emulation when the endpoint points there.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::error::DisplayErrorContext;
use aws_sdk_apigatewaymanagement::primitives::Blob;

use messaging_core::ids::ConnectionId;
use messaging_core::ports::{ConnectionPusher, PushError};

/// Attempts per push (the first and two retries) for throttling and 5xx answers.
pub const PUSH_ATTEMPTS: u32 = 3;

#[derive(Clone)]
pub struct ManagementApiPusher {
    client: Client,
    calls: Arc<AtomicU64>,
}

impl ManagementApiPusher {
    /// `endpoint` is the WebSocket API's `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`.
    ///
    /// Retries are quick: a push is worth something only now, the messages after it wait
    /// for it (pushes keep seq order), and a client that misses one catches up over REST.
    /// The SDK's default backoff (about a second per retry) made every send of a
    /// conversation seconds slower while one connection's pushes were throttled.
    pub fn new(sdk: &aws_config::SdkConfig, endpoint: &str) -> Self {
        let retry = aws_config::retry::RetryConfig::standard()
            .with_max_attempts(PUSH_ATTEMPTS)
            .with_initial_backoff(std::time::Duration::from_millis(20))
            .with_max_backoff(std::time::Duration::from_millis(200));
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(endpoint)
            .retry_config(retry)
            .build();
        Self {
            client: Client::from_conf(config),
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Management API calls made so far (the benchmark's cost accounting).
    pub fn calls(&self) -> Arc<AtomicU64> {
        self.calls.clone()
    }
}

#[async_trait]
impl ConnectionPusher for ManagementApiPusher {
    async fn push(&self, connection: &ConnectionId, payload: &[u8]) -> Result<(), PushError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError as E;
        match self
            .client
            .post_to_connection()
            .connection_id(connection.as_str())
            .data(Blob::new(payload))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.as_service_error(), Some(E::GoneException(_))) => Err(PushError::Gone),
            // ForbiddenException, or a bare 403 from an endpoint that is not the API's own
            // (an execute-api VPC endpoint with private DNS answers that way).
            Err(e)
                if matches!(e.as_service_error(), Some(E::ForbiddenException(_)))
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 403) =>
            {
                Err(PushError::Forbidden(DisplayErrorContext(e).to_string()))
            }
            Err(e) => Err(PushError::Failed(DisplayErrorContext(e).to_string())),
        }
    }

    async fn close(&self, connection: &ConnectionId) -> Result<(), PushError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError as E;
        match self
            .client
            .delete_connection()
            .connection_id(connection.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.as_service_error(), Some(E::GoneException(_))) => Ok(()),
            Err(e)
                if matches!(e.as_service_error(), Some(E::ForbiddenException(_)))
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 403) =>
            {
                Err(PushError::Forbidden(DisplayErrorContext(e).to_string()))
            }
            Err(e) => Err(PushError::Failed(DisplayErrorContext(e).to_string())),
        }
    }
}
