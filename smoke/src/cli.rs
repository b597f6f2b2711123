//! The command line: which stack, which users.

use serde_json::Value;

use crate::signin::{CognitoUsers, LocalUsers, SignIn};
use crate::{Report, Target, run as run_steps};

pub const USAGE: &str = "smoke --local URL [--admin USER_ID]   a local gateway (its OIDC provider and dev directory)\n\
                         smoke --outputs FILE                  a deployed stack: the JSON of `aws cloudformation describe-stacks --query Stacks[0].Outputs`";

/// A stack's outputs (`[{"OutputKey": ..., "OutputValue": ...}]`) by key.
pub fn output(outputs: &Value, key: &str) -> Result<String, String> {
    outputs
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["OutputKey"] == key)
        .and_then(|o| o["OutputValue"].as_str())
        .map(|v| v.trim_end_matches('/').to_owned())
        .ok_or_else(|| format!("the stack has no output {key}"))
}

pub async fn run(args: &[String]) -> Result<Report, String> {
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(base) = flag("--local") {
        let admin = flag("--admin").unwrap_or_else(|| "u-admin-dana".into());
        return local(&base, &admin).await;
    }
    if let Some(file) = flag("--outputs") {
        let raw = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
        let outputs: Value = serde_json::from_str(&raw).map_err(|e| format!("{file}: {e}"))?;
        return deployed(&outputs).await;
    }
    Err(USAGE.into())
}

/// Against a local gateway.
pub async fn local(base: &str, admin: &str) -> Result<Report, String> {
    let (users, config, a, b) = LocalUsers::create(base, admin).await?;
    finish(run_steps(&config.target, &a, &b).await, SignIn::Local(users)).await
}

/// Against a deployed stack, with the region and credentials of the environment.
pub async fn deployed(outputs: &Value) -> Result<Report, String> {
    let target = Target {
        api_base: output(outputs, "RestApiUrl")?,
        ws_url: output(outputs, "WebSocketUrl")?,
    };
    let sdk = aws_config::load_from_env().await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let (users, a, b) = CognitoUsers::create(
        cognito,
        &output(outputs, "UserPoolId")?,
        &output(outputs, "UserPoolClientId")?,
    )
    .await?;
    finish(run_steps(&target, &a, &b).await, SignIn::Cognito(users)).await
}

async fn finish(mut report: Report, users: SignIn) -> Result<Report, String> {
    let started = std::time::Instant::now();
    let removed = users.remove().await;
    report.record("remove users", started, removed.map(|d| ((), d)));
    Ok(report)
}
