//! `template.yaml` as the tests read it: parsed YAML with CloudFormation's short-form tags
//! kept (`untag` looks through them), and its functions by logical id.

use std::collections::BTreeMap;

use serde_yaml::Value;

use crate::services::{repo_root, venv_tool};

pub fn template() -> Value {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).expect("template.yaml");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

/// Strips CloudFormation short-form tags (`!Ref x` → `x`) so the tests can look through them.
pub fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untag(&t.value),
        other => other,
    }
}

/// The `AWS::Serverless::Function` resources, by logical id.
pub fn functions(t: &Value) -> BTreeMap<String, Value> {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(k, r)| (k.as_str().unwrap_or_default().to_owned(), r.clone()))
        .collect()
}

/// The binary a function's resource builds.
pub fn binary(function: &Value) -> String {
    function["Metadata"]["BuildProperties"]["Binary"]
        .as_str()
        .expect("every function names its binary")
        .to_owned()
}

/// Function logical id → variable → value.
pub type Environments = BTreeMap<String, BTreeMap<String, String>>;

/// Each function's environment as `sam local invoke` would build it with `args` (such as
/// `--env-vars events/env.json`), resolved by SAM CLI's own code (`infra/sam/local_env.py`).
pub fn sam_local_environments(args: &[&str]) -> Environments {
    let root = repo_root();
    let out = std::process::Command::new(venv_tool("python"))
        .arg(root.join("infra/sam/local_env.py"))
        .arg("--template")
        .arg(root.join("template.yaml"))
        .args(args)
        .current_dir(&root)
        .output()
        .expect("run infra/sam/local_env.py");
    assert!(
        out.status.success(),
        "local_env.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("local_env.py prints JSON")
}
