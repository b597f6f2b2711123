//! `local-gateway`: runs the product on one machine (`make dev`). See the crate docs.

#[tokio::main]
async fn main() -> Result<(), local_gateway::BoxError> {
    messaging_backends::init_tracing();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "local-gateway [--port N] [--bind ADDR] [--data-dir DIR] [--store embedded|dynamodb] [--web-dir DIR] [--pusher in-process|management-api] [--no-seed] [--no-dev-login] [--allow-remote-dev-login]"
        );
        return Ok(());
    }
    let config = local_gateway::GatewayConfig::from_env_and_args(&args)?;
    let running = local_gateway::start(config).await?;
    println!(
        "Messaging is running at {}  (WebSocket: {}, API docs: {}/api/openapi.yaml)",
        running.url(),
        running.ws_url(),
        running.url()
    );
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {} => { std::future::pending::<()>().await }
    }
    running.shutdown().await;
    Ok(())
}
