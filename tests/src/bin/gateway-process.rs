//! The local gateway as a process of its own, for tests that kill it (`kill -9`) and
//! start it again on the same data folder. The same code as the `local-gateway` binary;
//! built here because cargo builds a package's own binaries for its tests.

#[tokio::main]
async fn main() -> Result<(), local_gateway::BoxError> {
    messaging_backends::init_tracing();
    local_gateway::cli(std::env::args().skip(1).collect()).await
}
