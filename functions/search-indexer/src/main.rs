//! Lambda function: the search index's one writer, fed by the messages table's stream.
//! Wiring only; the indexer lives in `messaging-backends` (search_indexer.rs).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    messaging_backends::search_indexer::run().await
}
