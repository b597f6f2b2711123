//! The stack's notification secret from Secrets Manager, read once at cold start. The
//! VAPID key and the unsubscribe-link key are derived from it (`messaging-backends`).

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

/// The secret's string value (`SecretString`).
pub async fn secret_string(sdk: &aws_config::SdkConfig, secret_id: &str) -> Result<String, String> {
    let out = Client::new(sdk)
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| format!("secret {secret_id}: {}", DisplayErrorContext(e)))?;
    out.secret_string
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("secret {secret_id} has no string value"))
}
