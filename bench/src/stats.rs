//! Latency percentiles over recorded samples (microseconds).

#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub samples: usize,
}

/// Nearest-rank percentiles.
pub fn percentiles(mut samples_us: Vec<u64>) -> Percentiles {
    if samples_us.is_empty() {
        return Percentiles::default();
    }
    samples_us.sort_unstable();
    let rank = |p: f64| {
        let i = ((p / 100.0) * samples_us.len() as f64).ceil() as usize;
        samples_us[i.clamp(1, samples_us.len()) - 1] as f64 / 1000.0
    };
    Percentiles {
        p50_ms: rank(50.0),
        p95_ms: rank(95.0),
        p99_ms: rank(99.0),
        max_ms: *samples_us.last().unwrap_or(&0) as f64 / 1000.0,
        samples: samples_us.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let p = percentiles((1..=100).map(|ms| ms * 1000).collect());
        assert_eq!(
            (p.p50_ms, p.p95_ms, p.p99_ms, p.max_ms, p.samples),
            (50.0, 95.0, 99.0, 100.0, 100)
        );
        assert_eq!(percentiles(vec![]).samples, 0);
    }
}
