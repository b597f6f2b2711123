//! `sam local invoke --env-vars events/env.json`, as SAM CLI itself builds each function's
//! environment (`infra/sam/local_env.py` runs SAM's own function provider and runner; only
//! starting the container needs Docker). SAM passes only variables the template declares,
//! so a variable the file sets but the template does not is silently lost.

use std::collections::BTreeMap;

use integration_tests::services::repo_root;
use integration_tests::template::{binary, functions, sam_local_environments, template};
use messaging_backends::environment::{Reader, VARIABLES};
use messaging_http::routes::Function;

fn env_file() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(repo_root().join("events/env.json")).expect("events/env.json");
    let file: serde_json::Value = serde_json::from_str(&text).expect("env.json is JSON");
    serde_json::from_value(file["Parameters"].clone()).expect("Parameters: name → string")
}

#[test]
fn with_events_env_json_every_function_gets_every_variable_it_needs() {
    let path = repo_root().join("events/env.json");
    let resolved = sam_local_environments(&["--env-vars", path.to_str().unwrap()]);
    let t = template();
    assert_eq!(resolved.len(), functions(&t).len(), "SAM sees every function");
    for (name, f) in functions(&t) {
        let env = &resolved[&name];
        let rest = Function::ALL.iter().any(|r| r.binary() == binary(&f));
        let value = |var: &str| env.get(var).map(String::as_str).unwrap_or("");
        for var in VARIABLES.iter().filter(|v| v.required) {
            let reads =
                var.readers.contains(&Reader::Functions) || (rest && var.readers.contains(&Reader::RestFunctions));
            if !reads {
                continue;
            }
            if var.name == "JWKS_URL" {
                continue; // locally, dev tokens: checked below
            }
            assert!(!value(var.name).is_empty(), "{name}: {} is empty", var.name);
        }
        assert!(
            value("AWS_ENDPOINT_URL").starts_with("http://host.docker.internal"),
            "{name} talks to the local endpoint, not AWS: {:?}",
            value("AWS_ENDPOINT_URL")
        );
        if rest {
            assert_eq!(value("JWKS_URL"), "", "{name}: no JWKS locally, so dev tokens verify");
            assert!(
                value("JWT_SECRET").len() >= 32,
                "{name}: JWT_SECRET for the events' tokens"
            );
        }
    }
}

#[test]
fn events_env_json_sets_only_variables_the_template_declares() {
    let path = repo_root().join("events/env.json");
    let resolved = sam_local_environments(&["--env-vars", path.to_str().unwrap()]);
    for (var, expected) in env_file() {
        assert!(
            VARIABLES.iter().any(|v| v.name == var),
            "env.json sets {var}, which no function reads"
        );
        for (function, env) in &resolved {
            assert_eq!(
                env.get(&var),
                Some(&expected),
                "{function}: SAM dropped {var} (the template does not declare it)"
            );
        }
    }
}

/// With no `--env-vars`, SAM passes the declared endpoint as "" (which the functions treat
/// as unset: AWS itself) and no dev secret.
#[test]
fn without_env_vars_the_endpoint_and_the_dev_secret_are_blank() {
    for (function, env) in sam_local_environments(&[]) {
        assert_eq!(env.get("AWS_ENDPOINT_URL").map(String::as_str), Some(""), "{function}");
        assert_eq!(env.get("JWT_SECRET").map(String::as_str), Some(""), "{function}");
    }
}
