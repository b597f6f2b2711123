//! CloudWatch metrics from the domain's metric events ([`messaging_core::metrics`]): in
//! Lambda each becomes one line in the embedded metric format, which CloudWatch Logs turns
//! into a metric point — no API call on the request path, no extra permission.

use std::io::Write;

use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

use messaging_core::metrics::TARGET;

/// One EMF document: `value` of `metric` in `namespace`, published twice, with the
/// `Reason` dimension and without any (the alarm watches the total).
pub fn emf_line(namespace: &str, metric: &str, value: u64, reason: &str, timestamp_ms: i64) -> String {
    let mut doc = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Reason"], []],
                "Metrics": [{ "Name": metric, "Unit": "Count" }],
            }],
        },
        "Reason": reason,
    });
    doc[metric] = json!(value);
    doc.to_string()
}

#[derive(Default)]
struct MetricFields {
    metric: Option<String>,
    value: u64,
    reason: String,
}

impl Visit for MetricFields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "value" {
            self.value = value;
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "value" {
            self.value = value.max(0) as u64;
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "metric" => self.metric = Some(value.to_owned()),
            "reason" => self.reason = value.to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, format!("{value:?}").trim_matches('"'));
    }
}

/// Writes an EMF line for every metric event, to what `make_writer` returns (stdout in
/// Lambda, a buffer in tests).
pub struct EmfLayer<W> {
    namespace: String,
    make_writer: W,
}

impl<W> EmfLayer<W> {
    pub fn new(namespace: impl Into<String>, make_writer: W) -> Self {
        Self {
            namespace: namespace.into(),
            make_writer,
        }
    }
}

impl<S, W, O> Layer<S> for EmfLayer<W>
where
    S: Subscriber,
    W: Fn() -> O + Send + Sync + 'static,
    O: Write,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let mut fields = MetricFields::default();
        event.record(&mut fields);
        let Some(metric) = fields.metric else { return };
        let now = messaging_core::time::Timestamp::now().as_millis();
        let line = emf_line(&self.namespace, &metric, fields.value, &fields.reason, now);
        let mut out = (self.make_writer)();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_metric_event_becomes_an_embedded_metric_format_document() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(EmfLayer::new("Messaging/test", move || writer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            messaging_core::metrics::count(messaging_core::metrics::PUSH_FAILURES, 3, "forbidden");
            tracing::info!("an ordinary log line is not a metric");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let doc: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Messaging/test");
        assert_eq!(directive["Metrics"][0]["Name"], "PushFailures");
        assert_eq!(directive["Metrics"][0]["Unit"], "Count");
        assert_eq!(directive["Dimensions"], json!([["Reason"], []]));
        assert_eq!(doc["PushFailures"], 3);
        assert_eq!(doc["Reason"], "forbidden");
        assert!(doc["_aws"]["Timestamp"].as_i64().unwrap() > 1_700_000_000_000);
    }
}
