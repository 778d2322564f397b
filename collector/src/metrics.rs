//! `/metrics` in the OpenMetrics text format (Prometheus reads it): answers
//! stored, webhook deliveries, failed attempts and events given up.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SiteLabels {
    pub site: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HookLabels {
    pub site: String,
    pub webhook: String,
}

impl HookLabels {
    pub fn new(site: &str, webhook: &str) -> HookLabels {
        HookLabels {
            site: site.to_owned(),
            webhook: webhook.to_owned(),
        }
    }
}

pub struct Metrics {
    registry: Registry,
    pub answers_stored: Family<SiteLabels, Counter>,
    pub deliveries: Family<HookLabels, Counter>,
    pub delivery_failures: Family<HookLabels, Counter>,
    pub given_up: Family<HookLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("pulso");
        let answers_stored = Family::<SiteLabels, Counter>::default();
        registry.register(
            "answers_stored",
            "Answers created or moved to a newer revision",
            answers_stored.clone(),
        );
        let deliveries = Family::<HookLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook events delivered (the receiver answered 2xx)",
            deliveries.clone(),
        );
        let delivery_failures = Family::<HookLabels, Counter>::default();
        registry.register(
            "webhook_delivery_failures",
            "Webhook delivery attempts that failed (error or non-2xx status)",
            delivery_failures.clone(),
        );
        let given_up = Family::<HookLabels, Counter>::default();
        registry.register(
            "webhook_events_failed",
            "Webhook events given up after their retry period",
            given_up.clone(),
        );
        Metrics {
            registry,
            answers_stored,
            deliveries,
            delivery_failures,
            given_up,
        }
    }
}

impl Metrics {
    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
