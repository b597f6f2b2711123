//! The registry over TLS (`rediss://`): the conformance suite on a single node and on a
//! one-node cluster with TLS on the cluster bus too (the ElastiCache Serverless shape).
//! The servers have no plain-text port, so every command went through TLS, and their
//! certificates come from a CA made for the run, so the chain is really checked.

use integration_tests::fixtures::redis_options;
use integration_tests::services::{redis_tls, redis_tls_cluster};
use messaging_redis::{RedisOptions, RedisRegistry};

mod single_node {
    integration_tests::registry_conformance_tests!(integration_tests::fixtures::redis_tls_registry);
}

mod cluster {
    integration_tests::registry_conformance_tests!(integration_tests::fixtures::redis_tls_cluster_registry);
}

#[tokio::test]
async fn a_server_whose_certificate_is_not_trusted_is_refused_at_connect() {
    for (tls, cluster) in [(redis_tls(), false), (redis_tls_cluster(), true)] {
        if tls.ca_pem.is_none() {
            continue; // a server with a public certificate (REDIS_TLS_URL) is rightly trusted
        }
        // Without the run's CA only the public web PKI is trusted, and it did not sign this.
        let refused = RedisRegistry::connect(&redis_options(&tls.url, cluster, None)).await;
        let Err(err) = refused else {
            panic!("connected to {} without trusting its CA", tls.url)
        };
        assert!(
            err.to_string().contains("certificate"),
            "refused for the certificate: {err}"
        );
        // Plain text to a TLS-only port is refused too.
        let plain = tls.url.replacen("rediss://", "redis://", 1);
        assert!(
            RedisRegistry::connect(&redis_options(&plain, cluster, None))
                .await
                .is_err()
        );
    }
}

/// A lookup over `pairs`, standing in for the process environment.
fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[test]
fn the_options_come_from_the_environment_and_a_bad_ca_file_is_named() {
    assert!(RedisOptions::from_vars(vars(&[])).unwrap().is_none());

    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, b"-----BEGIN CERTIFICATE-----").unwrap();
    let ca = ca.display().to_string();
    let options = RedisOptions::from_vars(vars(&[
        ("REDIS_URL", "rediss://cache.example:6379"),
        ("REDIS_CLUSTER", "true"),
        ("REDIS_CA_FILE", &ca),
    ]))
    .unwrap()
    .unwrap();
    assert_eq!(options.url, "rediss://cache.example:6379");
    assert!(options.cluster);
    assert_eq!(options.ca_pem.as_deref(), Some(&b"-----BEGIN CERTIFICATE-----"[..]));
    assert_eq!(options.prefix, "msg:");

    let err = RedisOptions::from_vars(vars(&[
        ("REDIS_URL", "rediss://cache.example:6379"),
        ("REDIS_CA_FILE", "/nonexistent/ca.pem"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("REDIS_CA_FILE /nonexistent/ca.pem"), "{err}");
}
