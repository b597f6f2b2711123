//! What the logs may hold. Connection ids are what `@connections` pushes to: anyone who
//! has one can push to that socket through a reachable Management API, so they stay at
//! DEBUG, out of the INFO logs operators ship and share.

use std::io::Write;
use std::sync::{Arc, Mutex};

use integration_tests::service::{ServiceHarness, person};
use messaging_core::model::Role;
use tracing::Level;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Connects and disconnects one socket with logs at `level`; the logs and the id.
fn logs_of_a_connection(level: Level) -> (String, String) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = runtime.block_on(async {
        let h = ServiceHarness::new().await;
        let (ana, ben) = (person("u-ana", Role::Client), person("u-ben", Role::Team));
        h.conversation(&ben, &[&ana]).await;
        let connection = h.connect(&ana).await;
        h.svc.disconnect(&connection).await.unwrap();
        connection.to_string()
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    (logs, id)
}

#[test]
fn connection_ids_stay_out_of_info_logs() {
    let (info, id) = logs_of_a_connection(Level::INFO);
    assert!(info.contains("connected") && info.contains("disconnected"), "{info}");
    assert!(!info.contains(&id), "a connection id in the INFO logs:\n{info}");
    let (debug, id) = logs_of_a_connection(Level::DEBUG);
    assert!(debug.contains(&id), "at DEBUG the id is there to trace a socket");
}
