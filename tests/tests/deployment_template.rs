//! `template.yaml` against the code: the function binaries it builds exist, every variable
//! the functions read is set for every function, the six tables match the schema the code
//! creates (compared through DynamoDB's own DescribeTable), and every route of the route
//! table and of the OpenAPI document is an API route of the right function.

use std::collections::{BTreeMap, BTreeSet};

use integration_tests::fixtures::test_tables;
use integration_tests::services::{aws_config, repo_root};
use integration_tests::template::{binary, functions, template, untag};
use messaging_backends::environment::{Reader, VARIABLES, Variable};
use messaging_http::routes::{Function, ROUTES};
use serde_yaml::Value;

/// The `[[bin]]` names of the crates under `functions/`.
fn workspace_binaries() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(repo_root().join("functions")).unwrap() {
        let Ok(manifest) = std::fs::read_to_string(entry.unwrap().path().join("Cargo.toml")) else {
            continue; // .build-inputs
        };
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

/// The variables `function` (a binary name) reads, from their one declaration.
fn variables_read_by(function: &str) -> Vec<&'static Variable> {
    let rest = Function::ALL.iter().any(|f| f.binary() == function);
    VARIABLES
        .iter()
        .filter(|v| v.readers.contains(&Reader::Functions) || (rest && v.readers.contains(&Reader::RestFunctions)))
        .collect()
}

/// A function's environment in the template: Globals, then its own.
fn environment_of(t: &Value, function: &Value) -> BTreeMap<String, Value> {
    let mut env = BTreeMap::new();
    for source in [
        &t["Globals"]["Function"]["Environment"]["Variables"],
        &function["Properties"]["Environment"]["Variables"],
    ] {
        if let Some(m) = source.as_mapping() {
            env.extend(m.iter().map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone())));
        }
    }
    env
}

#[test]
fn every_variable_a_function_needs_is_set_for_it_and_every_variable_set_is_declared() {
    let t = template();
    for (name, f) in functions(&t) {
        let env = environment_of(&t, &f);
        for var in variables_read_by(&binary(&f)) {
            if var.required {
                assert!(env.contains_key(var.name), "{name} does not get {}", var.name);
            }
        }
        for key in env.keys() {
            assert!(
                VARIABLES
                    .iter()
                    .any(|v| v.name == key.as_str() && v.readers.iter().any(|r| r.reads_in_lambda())),
                "{name} gets {key}, which no function reads (declared in messaging_backends::environment?)"
            );
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
async fn the_tables_in_the_template_match_the_schema_the_code_creates() {
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
        ("user_notifications", names.notifications.as_str()),
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
    assert_eq!(compared, 7, "the six tables and user_notifications");
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
        .map(|r| ((r.method.to_owned(), r.path.to_owned()), r.function.binary().to_owned()))
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

/// `sam build` hashes each function's CodeUri for its cache: that folder is the crate,
/// and its `.build-inputs` link leads to everything else the binary is built from.
#[test]
fn every_function_builds_from_its_own_crate_with_the_shared_inputs_linked() {
    let t = template();
    assert!(
        t["Globals"]["Function"]["CodeUri"].is_null(),
        "a CodeUri of `.` would hash target/ and every other build output"
    );
    let root = repo_root();
    let canonical = |p: std::path::PathBuf| p.canonicalize().unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    for (name, f) in functions(&t) {
        let code_uri = f["Properties"]["CodeUri"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no CodeUri"));
        assert_eq!(code_uri, format!("functions/{}", binary(&f)), "{name}");
        let inputs = root.join(code_uri).join(".build-inputs");
        for (link, target) in [
            ("Cargo.toml", "Cargo.toml"),
            ("Cargo.lock", "Cargo.lock"),
            ("shared", "shared"),
        ] {
            assert_eq!(
                canonical(inputs.join(link)),
                canonical(root.join(target)),
                "{name}: .build-inputs/{link}"
            );
        }
        assert!(
            !canonical(inputs.clone()).starts_with(canonical(root.join("target"))),
            "{name}: build outputs must stay outside the hashed folder"
        );
    }
}

#[test]
fn a_deployed_stack_gets_no_endpoint_override_and_no_dev_secret() {
    let t = template();
    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    // `!If [UseLocalEndpoint, !Ref LocalEndpointUrl, !Ref AWS::NoValue]`
    let endpoint = serde_yaml::to_string(&env["AWS_ENDPOINT_URL"]).unwrap();
    assert!(
        endpoint.contains("UseLocalEndpoint") && endpoint.contains("AWS::NoValue"),
        "{endpoint}"
    );
    assert_eq!(
        serde_yaml::to_string(&t["Conditions"]["UseLocalEndpoint"])
            .unwrap()
            .trim(),
        serde_yaml::to_string(&serde_yaml::from_str::<Value>("!Not [!Equals [!Ref LocalEndpointUrl, \"\"]]").unwrap())
            .unwrap()
            .trim()
    );
    assert_eq!(t["Parameters"]["LocalEndpointUrl"]["Default"], "");
    assert_eq!(untag(&env["JWT_SECRET"]), "LocalJwtSecret");
    assert_eq!(t["Parameters"]["LocalJwtSecret"]["Default"], "");
    assert_eq!(t["Parameters"]["LocalJwtSecret"]["NoEcho"], true);
    // Tokens are verified against the user pool, which JWT_SECRET never overrides.
    let jwks = serde_yaml::to_string(&env["JWKS_URL"]).unwrap();
    assert!(jwks.contains("cognito-idp") && jwks.contains("jwks.json"), "{jwks}");
}

fn resources_of_type<'a>(t: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(k, r)| (k.as_str().unwrap(), r))
        .collect()
}

/// Without a route response API Gateway drops what a route's integration answers: the
/// error frame of a `typing` for a conversation one is not in would never arrive.
#[test]
fn every_websocket_message_route_answers_on_the_socket() {
    let t = template();
    let responses: Vec<(&str, &Value)> = resources_of_type(&t, "AWS::ApiGatewayV2::RouteResponse");
    let stage = resources_of_type(&t, "AWS::ApiGatewayV2::Stage")[0].1;
    let depends: BTreeSet<&str> = stage["DependsOn"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    for (logical, route) in resources_of_type(&t, "AWS::ApiGatewayV2::Route") {
        let key = route["Properties"]["RouteKey"].as_str().unwrap();
        if key == "$connect" || key == "$disconnect" {
            continue; // no frames: API Gateway answers the upgrade or nothing
        }
        assert_eq!(
            route["Properties"]["RouteResponseSelectionExpression"], "$default",
            "{key} is one-way"
        );
        let response = responses
            .iter()
            .find(|(_, r)| untag(&r["Properties"]["RouteId"]) == logical)
            .unwrap_or_else(|| panic!("{key} has no route response"));
        assert_eq!(response.1["Properties"]["RouteResponseKey"], "$default");
        assert!(depends.contains(response.0), "the stage deploys after {}", response.0);
    }
}

/// The functions call PostToConnection and nothing else of the Management API.
#[test]
fn functions_may_post_to_connections_and_nothing_more() {
    let t = template();
    let mut seen = 0;
    for (name, f) in functions(&t) {
        let Some(policies) = f["Properties"]["Policies"].as_sequence() else {
            continue;
        };
        for policy in policies {
            for statement in policy["Statement"].as_sequence().unwrap() {
                if statement["Sid"] != "PushToConnections" {
                    continue;
                }
                seen += 1;
                assert_eq!(
                    statement["Action"].as_sequence().unwrap(),
                    &vec![Value::from("execute-api:ManageConnections")],
                    "{name}"
                );
                let resource = untag(&statement["Resource"]).as_str().unwrap();
                assert!(
                    resource.ends_with("/${StageName}/POST/@connections/*"),
                    "{name}: {resource}"
                );
            }
        }
    }
    assert_eq!(seen, 6, "every function but the authorizer pushes");
    let source = std::fs::read_to_string(repo_root().join("shared/aws/src/management.rs")).unwrap();
    assert!(source.contains(".post_to_connection()"));
    assert!(
        !source.contains(".get_connection()"),
        "the pusher calls .get_connection(): allow it in the template"
    );
    // Closing a disabled user's sockets (DeleteConnection): admin-api alone, DELETE alone.
    assert!(source.contains(".delete_connection()"));
    let closers: Vec<String> = functions(&t)
        .into_iter()
        .filter(|(_, f)| {
            f["Properties"]["Policies"]
                .as_sequence()
                .into_iter()
                .flatten()
                .any(|policy| {
                    policy["Statement"].as_sequence().into_iter().flatten().any(|s| {
                        s["Sid"] == "CloseConnections"
                            && untag(&s["Resource"])
                                .as_str()
                                .is_some_and(|r| r.ends_with("/${StageName}/DELETE/@connections/*"))
                    })
                })
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(closers, vec!["AdminApiFunction".to_owned()]);
}

#[test]
fn functions_read_the_user_pool_and_only_admin_api_changes_accounts() {
    let t = template();
    let mut readers = 0;
    for (name, f) in functions(&t) {
        let mut actions: Vec<String> = Vec::new();
        for policy in f["Properties"]["Policies"].as_sequence().into_iter().flatten() {
            for statement in policy["Statement"].as_sequence().into_iter().flatten() {
                let listed: Vec<String> = statement["Action"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str().map(str::to_owned))
                    .filter(|a| a.starts_with("cognito-idp:"))
                    .collect();
                if !listed.is_empty() {
                    assert_eq!(untag(&statement["Resource"]), &Value::from("UserPool.Arn"), "{name}");
                }
                actions.extend(listed);
            }
        }
        // The search indexer reads the messages table and nothing of the people.
        if name == "SearchIndexerFunction" {
            assert!(actions.is_empty(), "{name}: {actions:?}");
            continue;
        }
        for read in [
            "AdminGetUser",
            "AdminListGroupsForUser",
            "ListUsers",
            "ListUsersInGroup",
        ] {
            assert!(actions.contains(&format!("cognito-idp:{read}")), "{name} cannot {read}");
        }
        readers += 1;
        let writes: Vec<&str> = actions
            .iter()
            .map(String::as_str)
            .filter(|a| {
                !a.contains(":AdminGetUser") && !a.contains(":AdminListGroupsForUser") && !a.contains(":ListUsers")
            })
            .collect();
        let expected: &[&str] = match name.as_str() {
            "AdminApiFunction" => &[
                "cognito-idp:AdminDisableUser",
                "cognito-idp:AdminEnableUser",
                "cognito-idp:AdminUserGlobalSignOut",
            ],
            "MessagingApiFunction" => &["cognito-idp:AdminUpdateUserAttributes"],
            _ => &[],
        };
        assert_eq!(writes, expected.to_vec(), "{name}");
    }
    assert_eq!(readers, 7, "every other function reads the directory");
}

#[test]
fn alarms_watch_dead_letters_errors_throttles_5xx_and_failed_pushes() {
    let t = template();
    let alarms = resources_of_type(&t, "AWS::CloudWatch::Alarm");
    let text = |v: &Value| serde_yaml::to_string(v).unwrap();
    let watching = |metric: &str| -> Vec<&Value> {
        alarms
            .iter()
            .filter(|(_, a)| text(&a["Properties"]).contains(&format!("MetricName: {metric}")))
            .map(|(_, a)| *a)
            .collect()
    };
    for metric in [
        "ApproximateNumberOfMessagesVisible",
        "Errors",
        "Throttles",
        "5XXError",
        "IntegrationError",
        "PushFailures",
    ] {
        let found = watching(metric);
        assert!(!found.is_empty(), "no alarm on {metric}");
        for alarm in found {
            assert_eq!(untag(&alarm["Properties"]["AlarmActions"][0]), "AlarmTopic", "{metric}");
        }
    }
    // Function errors and throttles cover every function; the search indexer's
    // throttles are its reserved concurrency of one at work, its lag has an alarm.
    for metric in ["Errors", "Throttles"] {
        let alarm = text(&watching(metric)[0]["Properties"]);
        for name in functions(&t).keys() {
            if metric == "Throttles" && name == "SearchIndexerFunction" {
                assert!(!alarm.contains(name.as_str()), "throttling the indexer is by design");
                continue;
            }
            assert!(alarm.contains(name.as_str()), "{metric} alarm misses {name}");
        }
    }
    let lag = text(&watching("IteratorAge")[0]["Properties"]);
    assert!(lag.contains("SearchIndexerFunction"), "{lag}");
    let dead_letters: Vec<String> = watching("ApproximateNumberOfMessagesVisible")
        .iter()
        .map(|a| text(&a["Properties"]))
        .collect();
    assert!(
        dead_letters
            .iter()
            .any(|a| a.contains("SearchIndexerDeadLetterQueue.QueueName")),
        "an alarm on the indexer's dead letters"
    );
    // The dead-letter alarm watches the dead-letter queue.
    let dlq = text(&watching("ApproximateNumberOfMessagesVisible")[0]["Properties"]);
    assert!(dlq.contains("DelayedTasksDeadLetterQueue.QueueName"), "{dlq}");
    // The push-failure alarm reads the namespace the functions write their metrics to.
    let push = &watching("PushFailures")[0]["Properties"];
    let namespace = untag(&t["Globals"]["Function"]["Environment"]["Variables"]["METRICS_NAMESPACE"]);
    assert_eq!(untag(&push["Namespace"]), namespace);
    assert_eq!(
        messaging_core::metrics::PUSH_FAILURES,
        push["MetricName"].as_str().unwrap()
    );
    assert!(
        push["Dimensions"].is_null(),
        "the alarm watches the total (EMF's empty dimension set)"
    );
}

#[test]
fn the_dashboard_is_valid_json_over_resources_that_exist() {
    let t = template();
    let dashboard = resources_of_type(&t, "AWS::CloudWatch::Dashboard")[0].1;
    let body = untag(&dashboard["Properties"]["DashboardBody"]).as_str().unwrap();
    let resources = t["Resources"].as_mapping().unwrap();
    let parameters = t["Parameters"].as_mapping().unwrap();
    let mut substituted = String::new();
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        substituted.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let name = &rest[start + 2..end];
        let logical = name.split('.').next().unwrap();
        assert!(
            name.starts_with("AWS::") || resources.contains_key(logical) || parameters.contains_key(logical),
            "the dashboard refers to {name}, which the template does not have"
        );
        substituted.push('x');
        rest = &rest[end + 1..];
    }
    substituted.push_str(rest);
    let parsed: serde_json::Value = serde_json::from_str(&substituted).expect("the dashboard body is JSON");
    assert!(parsed["widgets"].as_array().is_some_and(|w| w.len() >= 6));
}

#[test]
fn the_cache_is_capped_by_parameters() {
    let t = template();
    let cache = resources_of_type(&t, "AWS::ElastiCache::ServerlessCache")[0].1;
    let limits = &cache["Properties"]["CacheUsageLimits"];
    assert_eq!(untag(&limits["DataStorage"]["Maximum"]), "CacheMaxDataStorageGB");
    assert_eq!(limits["DataStorage"]["Unit"], "GB");
    assert_eq!(untag(&limits["ECPUPerSecond"]["Maximum"]), "CacheMaxEcpuPerSecond");
    for p in ["CacheMaxDataStorageGB", "CacheMaxEcpuPerSecond"] {
        assert!(t["Parameters"][p]["Default"].is_number(), "{p}");
    }
}

/// The costly writes have API Gateway limits of their own (below the stage's general
/// ones), as typing does on the WebSocket stage; the functions' per-user allowances
/// (RATE_LIMITS) come on top.
#[test]
fn costly_writes_have_their_own_api_gateway_throttles() {
    let t = template();
    let rest = &t["Resources"]["RestApi"]["Properties"]["MethodSettings"];
    let settings = rest.as_sequence().expect("MethodSettings");
    for operation in [
        "createConversation",
        "addParticipants",
        "requestUploads",
        "reportMessage",
        "issueWebSocketTicket",
    ] {
        let route = messaging_http::routes::ROUTES
            .iter()
            .find(|r| r.operation_id == operation)
            .expect("a route of the table");
        let encoded = route.path.replace('/', "~1");
        let entry = settings
            .iter()
            .find(|s| s["ResourcePath"] == encoded.as_str() && s["HttpMethod"] == route.method)
            .unwrap_or_else(|| panic!("{operation}: no method setting for {encoded}"));
        assert_eq!(
            untag(&entry["ThrottlingRateLimit"]),
            &Value::from("WriteThrottlingRateLimit"),
            "{operation}"
        );
        assert_eq!(
            untag(&entry["ThrottlingBurstLimit"]),
            &Value::from("WriteThrottlingBurstLimit"),
            "{operation}"
        );
    }
    let stages: Vec<&Value> = t["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::ApiGatewayV2::Stage")
        .collect();
    assert_eq!(stages.len(), 1);
    let typing = &stages[0]["Properties"]["RouteSettings"]["typing"];
    assert_eq!(
        untag(&typing["ThrottlingRateLimit"]),
        &Value::from("WriteThrottlingRateLimit")
    );
}

/// API Gateway's own answers (its 403s, 413s, 429s, 5xx) carry the same security headers
/// as the functions' responses: a client or a cache cannot tell them apart.
#[test]
fn api_gateways_own_errors_carry_the_functions_security_headers() {
    let t = template();
    let responses = &t["Resources"]["RestApi"]["Properties"]["GatewayResponses"];
    for kind in ["DEFAULT_4XX", "DEFAULT_5XX"] {
        let headers = &responses[kind]["ResponseParameters"]["Headers"];
        for (name, value) in messaging_http::headers::API {
            // API Gateway header values are quoted literals, with quotes doubled inside.
            let expected = format!("'{}'", value.replace('\'', "''"));
            assert_eq!(
                headers[name.as_str()]
                    .as_str()
                    .or_else(|| headers[canonical(name.as_str()).as_str()].as_str()),
                Some(expected.as_str()),
                "{kind}: {name}"
            );
        }
    }
}

/// `content-security-policy` → `Content-Security-Policy`, as the template spells them.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Search in AWS: one writer fed by the messages stream, the REST functions mounting the
/// same file read-only, mount targets in every subnet before any function that mounts.
#[test]
fn the_search_index_has_one_stream_fed_writer_and_read_only_readers() {
    let t = template();
    let resources = &t["Resources"];
    let text = |v: &Value| serde_yaml::to_string(v).unwrap();

    // The stream the indexer reads holds each change's new image (stream.rs reads it).
    assert_eq!(
        resources["MessagesTable"]["Properties"]["StreamSpecification"]["StreamViewType"],
        "NEW_IMAGE"
    );
    let indexer = &resources["SearchIndexerFunction"]["Properties"];
    // One writer by default; 0 leaves it unreserved (an account whose quota is 10).
    let reserved = serde_yaml::to_string(&indexer["ReservedConcurrentExecutions"]).unwrap();
    assert!(
        reserved.contains("ReserveIndexerConcurrency") && reserved.contains("SearchIndexerReservedConcurrency"),
        "{reserved}"
    );
    assert_eq!(
        t["Parameters"]["SearchIndexerReservedConcurrency"]["Default"].as_u64(),
        Some(1)
    );
    let stream = &indexer["Events"]["MessagesStream"];
    assert_eq!(stream["Type"], "DynamoDB");
    let props = &stream["Properties"];
    assert!(text(&props["Stream"]).contains("MessagesTable.StreamArn"));
    assert_eq!(
        props["StartingPosition"], "TRIM_HORIZON",
        "nothing written before the indexer is skipped"
    );
    assert_eq!(props["BisectBatchOnFunctionError"].as_bool(), Some(true));
    assert!(text(&props["DestinationConfig"]).contains("SearchIndexerDeadLetterQueue.Arn"));
    assert!(
        indexer["Timeout"].as_u64().unwrap_or(0) >= 300,
        "a first build reads the whole table"
    );

    // Whoever gets SEARCH_INDEX_PATH mounts the access point at its folder; only the
    // indexer may write.
    let mut readers = Vec::new();
    for (name, f) in functions(&t) {
        let env = environment_of(&t, &f);
        let Some(path) = env.get("SEARCH_INDEX_PATH").filter(|p| p.as_str() != Some("")) else {
            assert!(
                f["Properties"]["FileSystemConfigs"].is_null(),
                "{name} mounts without searching"
            );
            continue;
        };
        let path = path.as_str().expect("a literal path");
        let mount = &f["Properties"]["FileSystemConfigs"][0];
        assert!(text(&mount["Arn"]).contains("SearchAccessPoint.Arn"), "{name}");
        let dir = mount["LocalMountPath"].as_str().expect("mount path");
        assert_eq!(
            std::path::Path::new(path).parent(),
            Some(std::path::Path::new(dir)),
            "{name}: the index is in the mount"
        );
        assert!(
            f["DependsOn"] == "SearchMountTargetsReady",
            "{name} is created once the mount targets exist"
        );
        let policies = text(&f["Properties"]["Policies"]);
        assert!(policies.contains("elasticfilesystem:ClientMount"), "{name}");
        assert_eq!(
            policies.contains("elasticfilesystem:ClientWrite"),
            name == "SearchIndexerFunction",
            "{name}: only the indexer writes"
        );
        readers.push(name);
    }
    readers.sort();
    assert_eq!(
        readers,
        ["AdminApiFunction", "MessagingApiFunction", "SearchIndexerFunction"]
    );

    // A mount target per subnet (two always, the third when given), each waited for.
    let ready = text(&resources["SearchMountTargetsReady"]["Metadata"]);
    for (i, target) in ["SearchMountTarget1", "SearchMountTarget2", "SearchMountTarget3"]
        .iter()
        .enumerate()
    {
        let subnet = text(&resources[*target]["Properties"]["SubnetId"]);
        assert!(
            subnet.contains(&format!("- {i}")),
            "{target} takes subnet {i}: {subnet}"
        );
        assert!(ready.contains(target), "{target} is waited for");
    }
    assert_eq!(resources["SearchMountTarget3"]["Condition"], "HasThirdSubnet");
    // The file system refuses access without TLS, which also ends EFS's default "anyone
    // who reaches a mount target may write".
    assert!(text(&resources["SearchFileSystem"]["Properties"]["FileSystemPolicy"]).contains("aws:SecureTransport"));
}
