//! Server metrics and their Prometheus text exposition (format 0.0.4), written by hand
//! because the server needs only counters, one gauge family and one histogram family.
//!
//! Routes are labelled by their pattern (`/v1/predict`), and requests that match no route by
//! `unmatched`, so clients cannot grow the label set.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::registry::ModelInfo;

/// Upper bounds of the latency histogram buckets, in seconds.
const LATENCY_BUCKETS_SECONDS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Request count and latency histogram of one route, method and status.
#[derive(Debug, Default, Clone)]
struct RequestStats {
    count: u64,
    sum_seconds: f64,
    /// Non-cumulative count per bucket of [`LATENCY_BUCKETS_SECONDS`]; slower requests only
    /// count in `count` (the `+Inf` bucket).
    buckets: [u64; LATENCY_BUCKETS_SECONDS.len()],
}

/// Counters shared by all requests.
#[derive(Default)]
pub struct Metrics {
    /// Keyed by (route, method, status).
    requests: Mutex<BTreeMap<(String, String, u16), RequestStats>>,
    /// Predicted labels returned, by label code.
    predicted_labels: Mutex<BTreeMap<String, u64>>,
    /// Works scored, and those with an empty reason.
    works_scored: AtomicU64,
    works_empty: AtomicU64,
    reloads_succeeded: AtomicU64,
    reloads_failed: AtomicU64,
}

impl Metrics {
    /// Records one finished request.
    pub fn record_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut requests = lock(&self.requests);
        let stats = requests.entry((route.to_string(), method.to_string(), status)).or_default();
        stats.count += 1;
        stats.sum_seconds += seconds;
        if let Some(bucket) = LATENCY_BUCKETS_SECONDS.iter().position(|bound| seconds <= *bound) {
            stats.buckets[bucket] += 1;
        }
    }

    /// Records the labels returned for a batch of works and how many were empty.
    pub fn record_predictions<'a>(&self, works: u64, empty: u64, labels: impl Iterator<Item = &'a str>) {
        self.works_scored.fetch_add(works, Ordering::Relaxed);
        self.works_empty.fetch_add(empty, Ordering::Relaxed);
        let mut counts = lock(&self.predicted_labels);
        for label in labels {
            match counts.get_mut(label) {
                Some(count) => *count += 1,
                None => {
                    counts.insert(label.to_string(), 1);
                }
            }
        }
    }

    pub fn record_reload(&self, succeeded: bool) {
        let counter = if succeeded { &self.reloads_succeeded } else { &self.reloads_failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Renders every metric in the Prometheus text format.
    pub fn render(&self, model: Option<&ModelInfo>) -> String {
        let mut out = String::with_capacity(4096);
        self.render_requests(&mut out);

        header(&mut out, "topicops_works_scored_total", "counter", "Works scored by the prediction endpoints.");
        let _ = writeln!(out, "topicops_works_scored_total {}", self.works_scored.load(Ordering::Relaxed));
        header(
            &mut out,
            "topicops_works_empty_total",
            "counter",
            "Works scored without any usable feature (flagged with an empty reason).",
        );
        let _ = writeln!(out, "topicops_works_empty_total {}", self.works_empty.load(Ordering::Relaxed));
        header(&mut out, "topicops_predicted_labels_total", "counter", "Labels returned, by label code.");
        for (label, count) in lock(&self.predicted_labels).iter() {
            let _ = writeln!(out, "topicops_predicted_labels_total{{label=\"{}\"}} {count}", escape(label));
        }

        header(&mut out, "topicops_model_reloads_total", "counter", "Model reload attempts, by result.");
        let succeeded = self.reloads_succeeded.load(Ordering::Relaxed);
        let failed = self.reloads_failed.load(Ordering::Relaxed);
        let _ = writeln!(out, "topicops_model_reloads_total{{result=\"success\"}} {succeeded}");
        let _ = writeln!(out, "topicops_model_reloads_total{{result=\"failure\"}} {failed}");

        header(&mut out, "topicops_model_loaded", "gauge", "1 when a model is loaded and serving, else 0.");
        let _ = writeln!(out, "topicops_model_loaded {}", u8::from(model.is_some()));
        header(&mut out, "topicops_model_version", "gauge", "Registry version of the served model.");
        if let Some(model) = model {
            let _ = writeln!(
                out,
                "topicops_model_version{{model=\"{}\",reference=\"{}\"}} {}",
                escape(&model.name),
                escape(&model.reference),
                model.version
            );
        }
        out
    }

    fn render_requests(&self, out: &mut String) {
        let requests = lock(&self.requests).clone();
        header(out, "topicops_http_requests_total", "counter", "HTTP requests, by route, method and status.");
        for ((route, method, status), stats) in &requests {
            let labels = format!("route=\"{}\",method=\"{}\",status=\"{status}\"", escape(route), escape(method));
            let _ = writeln!(out, "topicops_http_requests_total{{{labels}}} {}", stats.count);
        }

        header(
            out,
            "topicops_http_request_duration_seconds",
            "histogram",
            "HTTP request latency from the first byte read to the response, by route and status.",
        );
        for ((route, method, status), stats) in &requests {
            let labels = format!("route=\"{}\",method=\"{}\",status=\"{status}\"", escape(route), escape(method));
            let mut cumulative = 0;
            for (bound, count) in LATENCY_BUCKETS_SECONDS.iter().zip(stats.buckets) {
                cumulative += count;
                let _ = writeln!(out, "topicops_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
            }
            let _ = writeln!(out, "topicops_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", stats.count);
            let _ = writeln!(out, "topicops_http_request_duration_seconds_sum{{{labels}}} {}", stats.sum_seconds);
            let _ = writeln!(out, "topicops_http_request_duration_seconds_count{{{labels}}} {}", stats.count);
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value: backslash, double quote and line feed.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let metrics = Metrics::default();
        metrics.record_request("/v1/predict", "POST", 200, Duration::from_micros(300));
        metrics.record_request("/v1/predict", "POST", 200, Duration::from_millis(3));
        metrics.record_request("/v1/predict", "POST", 200, Duration::from_secs(20));
        let text = metrics.render(None);
        let labels = "route=\"/v1/predict\",method=\"POST\",status=\"200\"";
        // 0.3 ms falls in the 0.0005 bucket, 3 ms in the 0.005 bucket, 20 s only in +Inf.
        assert!(text.contains(&format!("duration_seconds_bucket{{{labels},le=\"0.0005\"}} 1\n")), "{text}");
        assert!(text.contains(&format!("duration_seconds_bucket{{{labels},le=\"0.0025\"}} 1\n")), "{text}");
        assert!(text.contains(&format!("duration_seconds_bucket{{{labels},le=\"0.005\"}} 2\n")), "{text}");
        assert!(text.contains(&format!("duration_seconds_bucket{{{labels},le=\"10\"}} 2\n")), "{text}");
        assert!(text.contains(&format!("duration_seconds_bucket{{{labels},le=\"+Inf\"}} 3\n")), "{text}");
        assert!(text.contains(&format!("topicops_http_requests_total{{{labels}}} 3\n")), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn predicted_labels_are_counted() {
        let metrics = Metrics::default();
        metrics.record_predictions(3, 1, ["2708", "2700", "2708"].into_iter());
        let text = metrics.render(None);
        assert!(text.contains("topicops_predicted_labels_total{label=\"2708\"} 2\n"), "{text}");
        assert!(text.contains("topicops_predicted_labels_total{label=\"2700\"} 1\n"), "{text}");
        assert!(text.contains("topicops_works_scored_total 3\n"), "{text}");
        assert!(text.contains("topicops_works_empty_total 1\n"), "{text}");
        assert!(text.contains("topicops_model_loaded 0\n"), "{text}");
    }
}
