//! `local-gateway`: runs the product on one machine (`make dev`). See the crate docs.

#[tokio::main]
async fn main() -> Result<(), local_gateway::BoxError> {
    messaging_backends::init_tracing();
    local_gateway::cli(std::env::args().skip(1).collect()).await
}
