//! The functions, invoked in process the way Lambda invokes them: a JSON event in, a JSON
//! response out, through the same entry points the function binaries use
//! (`lambda_http`'s adapter for the REST routers, `messaging-ws` for the rest).
//! Going through JSON keeps the gateway honest: a field API Gateway would not send cannot
//! reach a handler.

use std::sync::Arc;

use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Context, LambdaEvent};
use serde_json::Value;

use messaging_core::Messaging;
use messaging_http::AppState;
use messaging_http::routes::Function;

pub struct Functions {
    state: AppState,
    messaging_api: axum::Router,
    admin_api: axum::Router,
}

impl Functions {
    pub fn new(state: AppState) -> Self {
        Self {
            messaging_api: messaging_http::messaging_api_app(state.clone()),
            admin_api: messaging_http::admin_app(state.clone()),
            state,
        }
    }

    pub fn service(&self) -> &Arc<Messaging> {
        &self.state.svc
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A REST function: an API Gateway REST proxy event in, a proxy response out.
    pub async fn invoke_rest(&self, function: Function, event: Value) -> Result<Value, String> {
        let router = match function {
            Function::MessagingApi => self.messaging_api.clone(),
            Function::AdminApi => self.admin_api.clone(),
        };
        let service = lambda_http::tower::ServiceBuilder::new()
            .map_request(messaging_http::strip_stage)
            // Buffer the body: lambda_http's response conversion holds it across an await,
            // which needs a `Sync` body to keep the invocation `Send` (Lambda's runtime
            // does not need that; the gateway serves on a multi-threaded runtime).
            .and_then(|response: axum::response::Response| async move {
                let (parts, body) = response.into_parts();
                // Handler bodies are in memory; reading them cannot fail.
                let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
                Ok::<_, std::convert::Infallible>(lambda_http::Response::from_parts(
                    parts,
                    lambda_http::Body::from(bytes.to_vec()),
                ))
            })
            .service(router);
        let request: LambdaRequest = serde_json::from_value(event).map_err(|e| format!("not a proxy event: {e}"))?;
        let adapter = lambda_http::Adapter::from(service);
        let response = adapter
            .oneshot(LambdaEvent::new(request, Context::default()))
            .await
            .map_err(|e| format!("handler failed: {e:?}"))?;
        serde_json::to_value(&response).map_err(|e| e.to_string())
    }

    /// The `$connect` authorizer. `Err` is what the function fails with (`Unauthorized`,
    /// which API Gateway answers with 401).
    pub async fn invoke_authorizer(&self, event: Value) -> Result<Value, String> {
        let event = serde_json::from_value(event).map_err(|e| e.to_string())?;
        let response = messaging_ws::authorize(&self.state.svc, event)
            .await
            .map_err(|refused| refused.to_string())?;
        serde_json::to_value(response).map_err(|e| e.to_string())
    }

    pub async fn invoke_connect(&self, event: Value) -> Result<Value, String> {
        let event = serde_json::from_value(event).map_err(|e| e.to_string())?;
        serde_json::to_value(messaging_ws::connect(&self.state.svc, event).await).map_err(|e| e.to_string())
    }

    pub async fn invoke_disconnect(&self, event: Value) -> Result<Value, String> {
        let event = serde_json::from_value(event).map_err(|e| e.to_string())?;
        serde_json::to_value(messaging_ws::disconnect(&self.state.svc, event).await).map_err(|e| e.to_string())
    }

    pub async fn invoke_message(&self, event: Value) -> Result<Value, String> {
        let event = serde_json::from_value(event).map_err(|e| e.to_string())?;
        serde_json::to_value(messaging_ws::message(&self.state.svc, event).await).map_err(|e| e.to_string())
    }

    /// The delayed-task function, with an SQS batch event.
    pub async fn invoke_delayed_tasks(&self, event: Value) -> Result<Value, String> {
        let event = serde_json::from_value(event).map_err(|e| e.to_string())?;
        Ok(messaging_ws::delayed_tasks(&self.state.svc, event).await)
    }
}
