//! `template.yaml` against the code: the function binaries it builds exist, every variable
//! the functions read is set for every function, the six tables match the schema the code
//! creates (compared through DynamoDB's own DescribeTable), and every route of the route
//! table and of the OpenAPI document is an API route of the right function.

use std::collections::{BTreeMap, BTreeSet};

use integration_tests::fixtures::test_tables;
use integration_tests::services::{aws_config, repo_root};
use messaging_http::routes::{Function, ROUTES};
use serde_yaml::Value;

fn template() -> Value {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).expect("template.yaml");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

/// Strips CloudFormation short-form tags (`!Ref x` → `x`) so the tests can look through them.
fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untag(&t.value),
        other => other,
    }
}

fn functions(t: &Value) -> BTreeMap<String, Value> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(k, r)| (k.as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

fn binary(function: &Value) -> String {
    function["Metadata"]["BuildProperties"]["Binary"]
        .as_str()
        .expect("every function names its binary")
        .to_owned()
}

/// The `[[bin]]` names of the crates under `functions/`.
fn workspace_binaries() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(repo_root().join("functions")).unwrap() {
        let manifest = std::fs::read_to_string(entry.unwrap().path().join("Cargo.toml")).unwrap();
        let mut in_bin = false;
        for line in manifest.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_bin = line == "[[bin]]";
            } else if in_bin && line.starts_with("name") {
                out.insert(line.split('"').nth(1).unwrap().to_owned());
            }
        }
    }
    out
}

#[test]
fn every_function_binary_in_the_template_is_built_by_the_workspace_and_vice_versa() {
    let t = template();
    let in_template: BTreeSet<String> = functions(&t).values().map(binary).collect();
    assert_eq!(in_template, workspace_binaries());
    for (name, f) in functions(&t) {
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
    }
    assert_eq!(t["Globals"]["Function"]["Runtime"], "provided.al2023");
    assert_eq!(t["Globals"]["Function"]["Architectures"][0], "arm64");
}

/// Variables the code requires, found in the code itself: `required("X")` in the wiring,
/// the table names, and the token settings.
fn required_variables() -> BTreeSet<String> {
    let backends = std::fs::read_to_string(repo_root().join("shared/backends/src/lib.rs")).unwrap();
    let mut vars: BTreeSet<String> = backends
        .split("required(\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect();
    let schema = std::fs::read_to_string(repo_root().join("shared/aws/src/dynamodb/schema.rs")).unwrap();
    vars.extend(
        schema
            .split("var(\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .map(str::to_owned),
    );
    vars.extend(["JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", "REDIS_CLUSTER"].map(String::from));
    assert!(
        vars.contains("REDIS_URL") && vars.contains("CONVERSATIONS_TABLE"),
        "found: {vars:?}"
    );
    vars
}

#[test]
fn every_variable_the_functions_read_is_set_for_every_function() {
    let t = template();
    let globals: BTreeSet<String> = t["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .map(|m| m.keys().map(|k| k.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    for (name, f) in functions(&t) {
        let mut set = globals.clone();
        if let Some(own) = f["Properties"]["Environment"]["Variables"].as_mapping() {
            set.extend(own.keys().map(|k| k.as_str().unwrap().to_owned()));
        }
        for var in required_variables() {
            if var == "TABLE_PREFIX" {
                continue; // only a local fallback for the table names
            }
            assert!(set.contains(&var), "{name} does not get {var}");
        }
    }
    // What the variables point at exists in the template.
    let resources = t["Resources"].as_mapping().unwrap();
    for resource in [
        "AttachmentsBucket",
        "DelayedTasksQueue",
        "RedisCache",
        "WebSocketApi",
        "UserPool",
        "UserPoolClient",
    ] {
        assert!(resources.contains_key(resource), "{resource} missing");
    }
}

fn key_schema(v: &Value) -> Vec<(String, String)> {
    v.as_sequence()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().to_owned(),
                k["KeyType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// An index: key schema (attribute, key type), projection type, projected attributes.
type IndexShape = (Vec<(String, String)>, String, BTreeSet<String>);
type Indexes = BTreeMap<String, IndexShape>;

/// One index as DescribeTable tells it (global and local ones are different SDK types).
fn described_index(
    name: Option<&str>,
    keys: &[aws_sdk_dynamodb::types::KeySchemaElement],
    projection: Option<&aws_sdk_dynamodb::types::Projection>,
) -> (String, IndexShape) {
    let proj = projection.unwrap();
    (
        name.unwrap().to_owned(),
        (
            keys.iter()
                .map(|k| (k.attribute_name().to_owned(), k.key_type().as_str().to_owned()))
                .collect(),
            proj.projection_type().unwrap().as_str().to_owned(),
            proj.non_key_attributes().iter().cloned().collect(),
        ),
    )
}

fn template_indexes(v: &Value) -> Indexes {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .map(|i| {
                    let non_key = i["Projection"]["NonKeyAttributes"]
                        .as_sequence()
                        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_owned()).collect())
                        .unwrap_or_default();
                    (
                        i["IndexName"].as_str().unwrap().to_owned(),
                        (
                            key_schema(&i["KeySchema"]),
                            i["Projection"]["ProjectionType"].as_str().unwrap().to_owned(),
                            non_key,
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_six_tables_in_the_template_match_the_schema_the_code_creates() {
    let t = template();
    let names = test_tables();
    let client = aws_sdk_dynamodb::Client::new(&aws_config().await);
    let by_suffix: BTreeMap<&str, &str> = [
        ("conversations", names.conversations.as_str()),
        ("messages", names.messages.as_str()),
        ("conversation_participants", names.participants.as_str()),
        ("message_files", names.files.as_str()),
        ("message_read_receipts", names.receipts.as_str()),
        ("message_reports", names.reports.as_str()),
    ]
    .into();
    let mut compared = 0;
    for (logical, resource) in t["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::DynamoDB::Table" {
            continue;
        }
        let p = &resource["Properties"];
        let table_name = untag(&p["TableName"]).as_str().unwrap();
        let suffix = table_name.rsplit("}-").next().unwrap();
        let actual = by_suffix
            .get(suffix)
            .unwrap_or_else(|| panic!("{logical:?}: unknown table {table_name}"));
        let d = client
            .describe_table()
            .table_name(*actual)
            .send()
            .await
            .unwrap()
            .table
            .unwrap();

        let keys: Vec<(String, String)> = d
            .key_schema()
            .iter()
            .map(|k| (k.attribute_name().to_owned(), k.key_type().as_str().to_owned()))
            .collect();
        assert_eq!(key_schema(&p["KeySchema"]), keys, "{suffix}: key schema");
        let attrs: BTreeSet<(String, String)> = d
            .attribute_definitions()
            .iter()
            .map(|a| (a.attribute_name().to_owned(), a.attribute_type().as_str().to_owned()))
            .collect();
        let template_attrs: BTreeSet<(String, String)> = p["AttributeDefinitions"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["AttributeName"].as_str().unwrap().to_owned(),
                    a["AttributeType"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(template_attrs, attrs, "{suffix}: attribute definitions");

        let gsis: Indexes = d
            .global_secondary_indexes()
            .iter()
            .map(|i| described_index(i.index_name(), i.key_schema(), i.projection()))
            .collect();
        assert_eq!(
            template_indexes(&p["GlobalSecondaryIndexes"]),
            gsis,
            "{suffix}: global secondary indexes"
        );
        let lsis: Indexes = d
            .local_secondary_indexes()
            .iter()
            .map(|i| described_index(i.index_name(), i.key_schema(), i.projection()))
            .collect();
        assert_eq!(
            template_indexes(&p["LocalSecondaryIndexes"]),
            lsis,
            "{suffix}: local secondary indexes"
        );
        assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
        assert_eq!(
            p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
            true
        );
        assert_eq!(p["SSESpecification"]["SSEEnabled"], true);
        if suffix == "message_files" {
            assert_eq!(p["TimeToLiveSpecification"]["AttributeName"], "expires_ttl");
        }
        compared += 1;
    }
    assert_eq!(compared, 6, "six tables");
}

/// (method, path) → function binary, from the template's API events.
fn template_routes(t: &Value) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for f in functions(t).values() {
        if let Some(events) = f["Properties"]["Events"].as_mapping() {
            for event in events.values() {
                if event["Type"] == "Api" {
                    let method = event["Properties"]["Method"].as_str().unwrap().to_uppercase();
                    let path = event["Properties"]["Path"].as_str().unwrap().to_owned();
                    out.insert((method, path), binary(f));
                }
            }
        }
    }
    out
}

#[test]
fn every_route_in_the_route_table_and_the_openapi_document_is_in_the_template() {
    let t = template();
    let deployed = template_routes(&t);
    let table: BTreeMap<(String, String), String> = ROUTES
        .iter()
        .map(|r| {
            let f = match r.function {
                Function::MessagingApi => "messaging-api",
                Function::AdminApi => "admin-api",
            };
            ((r.method.to_owned(), r.path.to_owned()), f.to_owned())
        })
        .collect();
    assert_eq!(
        deployed, table,
        "template API events == route table (method, path, function)"
    );

    let openapi: Value = serde_yaml::from_str(messaging_http::OPENAPI_YAML).expect("openapi.yaml is YAML");
    let mut documented = BTreeMap::new();
    for (path, item) in openapi["paths"].as_mapping().unwrap() {
        for (method, op) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if ["get", "post", "put", "patch", "delete"].contains(&method) {
                documented.insert(
                    (method.to_uppercase(), path.as_str().unwrap().to_owned()),
                    op["operationId"].as_str().unwrap().to_owned(),
                );
            }
        }
    }
    let table_ops: BTreeMap<(String, String), String> = ROUTES
        .iter()
        .map(|r| ((r.method.to_owned(), r.path.to_owned()), r.operation_id.to_owned()))
        .collect();
    assert_eq!(documented, table_ops, "OpenAPI operations == route table");
    for key in documented.keys() {
        assert!(deployed.contains_key(key), "{key:?} is documented but not deployed");
    }
}

#[test]
fn the_websocket_api_routes_by_action_with_an_authorizer_on_connect() {
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    let api = resources
        .values()
        .find(|r| r["Type"] == "AWS::ApiGatewayV2::Api")
        .expect("a WebSocket API");
    assert_eq!(api["Properties"]["ProtocolType"], "WEBSOCKET");
    assert_eq!(api["Properties"]["RouteSelectionExpression"], "$request.body.action");
    let routes: BTreeMap<String, Value> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::ApiGatewayV2::Route")
        .map(|r| (r["Properties"]["RouteKey"].as_str().unwrap().to_owned(), r.clone()))
        .collect();
    let mut expected: BTreeSet<String> = ["$connect", "$disconnect", "$default"].map(String::from).into();
    expected.extend(
        messaging_core::events::ClientAction::ROUTE_KEYS
            .iter()
            .map(|k| k.to_string()),
    );
    assert_eq!(routes.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(routes["$connect"]["Properties"]["AuthorizationType"], "CUSTOM");
}
