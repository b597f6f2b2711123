//! The search index's one writer in AWS (the `search-indexer` function): the messages
//! table's stream in, the FTS5 file on EFS out. Reserved concurrency 1 makes it the only
//! writer; the REST functions open the same file read-only ([`crate::SearchChoice::StreamFed`]).
//!
//! A stream batch is applied in one transaction, in stream order (an item's changes are
//! in order within its shard). A batch that fails is retried by Lambda, split in halves,
//! and what still fails goes to the dead-letter queue: the index may lag, never hold a
//! half-applied batch.
//!
//! When the file does not exist (a new stack, an index deleted to start over, a stack
//! from before search), the first batch builds the whole index from the table instead:
//! into a file beside it, renamed into place when complete, so readers never open a half
//! built index. The batch itself is covered: its records describe writes the table
//! already holds.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use messaging_core::Messaging;
use messaging_core::ports::SearchIndex;
use messaging_core::search::IndexChange;
use messaging_search::FtsIndex;
use tokio::sync::Mutex;

use crate::BoxError;

/// The indexer: the service (for its store, to rebuild) and the index file.
pub struct SearchIndexer {
    svc: Arc<Messaging>,
    path: PathBuf,
    index: Mutex<Option<FtsIndex>>,
}

/// What one batch did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum BatchOutcome {
    /// The batch's messages were applied.
    Applied { messages: usize },
    /// The index was built from the table (the batch included).
    Rebuilt { messages: usize },
}

impl SearchIndexer {
    pub fn new(svc: Arc<Messaging>, path: PathBuf) -> Self {
        Self {
            svc,
            path,
            index: Mutex::new(None),
        }
    }

    /// Applies one DynamoDB stream event (as Lambda delivers it).
    pub async fn handle(&self, event: &serde_json::Value) -> Result<BatchOutcome, BoxError> {
        let messages = messaging_aws::dynamodb::stream::stream_messages(event)?;
        let mut index = self.index.lock().await;
        if index.is_none() && !self.path.exists() {
            let messages = self.rebuild().await?;
            tracing::info!(messages, path = %self.path.display(), "search index built from the table");
            return Ok(BatchOutcome::Rebuilt { messages });
        }
        let writer = match &*index {
            Some(writer) => writer.clone(),
            None => index.insert(FtsIndex::open_shared_writer(&self.path)?).clone(),
        };
        let changes: Vec<IndexChange> = messages.iter().map(IndexChange::of).collect();
        writer.apply(&changes).await?;
        Ok(BatchOutcome::Applied {
            messages: messages.len(),
        })
    }

    async fn rebuild(&self) -> Result<usize, BoxError> {
        let building = building_path(&self.path);
        // What an interrupted build left (the function timed out): start again.
        for leftover in [building.clone(), journal_of(&building)] {
            if leftover.exists() {
                std::fs::remove_file(&leftover)?;
            }
        }
        let messages = {
            // Closed (dropped) before the rename. No `optimize`: it made the file larger.
            let fresh = FtsIndex::open_shared_writer(&building)?;
            self.svc.rebuild_search_index_into(&fresh).await?
        };
        std::fs::rename(&building, &self.path)?;
        Ok(messages)
    }
}

fn building_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".building");
    path.with_file_name(name)
}

fn journal_of(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push("-journal");
    path.with_file_name(name)
}

/// The function: the service built from the environment, `SEARCH_INDEX_PATH` required.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    crate::init_tracing();
    let path =
        crate::environment::get("SEARCH_INDEX_PATH").ok_or("environment variable SEARCH_INDEX_PATH is required")?;
    let indexer = Arc::new(SearchIndexer::new(crate::lambda_messaging().await?, path.into()));
    let handler = lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
        let indexer = indexer.clone();
        async move { indexer.handle(&event.payload).await }
    });
    lambda_runtime::run(handler).await
}
