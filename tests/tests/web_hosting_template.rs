//! The web client's hosting in `template.yaml` (issue 14): a private bucket that only the
//! distribution reads (Origin Access Control), the gateway's CSP plus exactly what the
//! deployed client talks to, the SPA rewrite (run for real under Node), the web origin
//! derived in every place that names it, the Cognito app client of the OIDC code flow,
//! and no dependency cycle through the distribution.

use std::collections::{BTreeMap, BTreeSet};

use integration_tests::template::{functions, template, untag};
use messaging_http::headers;
use serde_yaml::Value;

fn resource<'a>(t: &'a Value, id: &str) -> &'a Value {
    let r = &t["Resources"][id];
    assert!(!r.is_null(), "no resource {id}");
    r
}

fn yaml(v: &Value) -> String {
    serde_yaml::to_string(v).unwrap()
}

/// `directive -> sources` of a policy.
fn directives(csp: &str) -> BTreeMap<String, BTreeSet<String>> {
    csp.split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            let name = words.next()?.to_owned();
            Some((name, words.map(str::to_owned).collect()))
        })
        .collect()
}

#[test]
fn the_web_bucket_is_private_and_read_only_by_this_distribution() {
    let t = template();
    let bucket = &resource(&t, "WebBucket")["Properties"];
    for flag in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(bucket["PublicAccessBlockConfiguration"][flag], true, "{flag}");
    }
    assert_eq!(
        bucket["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
        "BucketOwnerEnforced"
    );
    assert!(!bucket["BucketEncryption"].is_null());
    assert!(bucket["WebsiteConfiguration"].is_null(), "no public website endpoint");

    let statements = resource(&t, "WebBucketPolicy")["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap()
        .clone();
    let allows: Vec<_> = statements.iter().filter(|s| s["Effect"] == "Allow").collect();
    assert_eq!(allows.len(), 1);
    assert_eq!(allows[0]["Principal"]["Service"], "cloudfront.amazonaws.com");
    assert_eq!(allows[0]["Action"], "s3:GetObject");
    let source = yaml(&allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"]);
    assert!(source.contains("distribution/${WebDistribution}"), "{source}");
    assert!(
        statements
            .iter()
            .any(|s| s["Effect"] == "Deny" && yaml(&s["Condition"]).contains("aws:SecureTransport"))
    );

    let oac = &resource(&t, "WebOriginAccessControl")["Properties"]["OriginAccessControlConfig"];
    assert_eq!(
        (
            &oac["OriginAccessControlOriginType"],
            &oac["SigningBehavior"],
            &oac["SigningProtocol"]
        ),
        (&"s3".into(), &"always".into(), &"sigv4".into())
    );
    let kinds: BTreeSet<_> = t["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter_map(|r| r["Type"].as_str())
        .collect();
    assert!(!kinds.contains("AWS::CloudFront::CloudFrontOriginAccessIdentity"));

    let config = &resource(&t, "WebDistribution")["Properties"]["DistributionConfig"];
    let origin = &config["Origins"][0];
    assert!(yaml(&origin["OriginAccessControlId"]).contains("WebOriginAccessControl.Id"));
    assert_eq!(origin["S3OriginConfig"]["OriginAccessIdentity"], "");
    assert_eq!(config["DefaultRootObject"], "index.html");
    let mut behaviours = vec![config["DefaultCacheBehavior"].clone()];
    behaviours.extend(config["CacheBehaviors"].as_sequence().cloned().unwrap_or_default());
    for b in &behaviours {
        assert_eq!(b["ViewerProtocolPolicy"], "redirect-to-https");
        assert_eq!(untag(&b["ResponseHeadersPolicyId"]), "WebResponseHeadersPolicy");
    }
    assert!(
        config["CustomErrorResponses"].is_null(),
        "a missing file stays an error"
    );
    let viewer = yaml(&config["ViewerCertificate"]);
    assert!(
        viewer.contains("sni-only")
            && viewer.contains("TLSv1.2_2021")
            && viewer.contains("CloudFrontDefaultCertificate")
    );
}

#[test]
fn the_deployed_csp_is_the_gateways_plus_exactly_the_stacks_origins() {
    let t = template();
    let security =
        &resource(&t, "WebResponseHeadersPolicy")["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"];
    let sub = untag(&security["ContentSecurityPolicy"]["ContentSecurityPolicy"]);
    let deployed = directives(sub[0].as_str().unwrap());
    let gateway = directives(&headers::web_csp(Some("${Files}"), None));
    let allowed_extra: BTreeMap<&str, BTreeSet<&str>> = [
        (
            "connect-src",
            BTreeSet::from([
                "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}",
                "wss://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}",
                "${Auth}",
                "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}",
            ]),
        ),
        ("form-action", BTreeSet::from(["${Auth}"])),
    ]
    .into();
    assert_eq!(
        deployed.keys().collect::<Vec<_>>(),
        gateway.keys().collect::<Vec<_>>(),
        "the same directives"
    );
    for (name, sources) in &deployed {
        let base = &gateway[name];
        assert!(
            base.is_subset(sources),
            "{name}: the gateway's {base:?} within {sources:?}"
        );
        let extra: BTreeSet<&str> = sources.difference(base).map(String::as_str).collect();
        assert_eq!(
            extra,
            allowed_extra.get(name.as_str()).cloned().unwrap_or_default(),
            "{name}"
        );
        assert!(!sources.iter().any(|s| s.contains("unsafe")), "{name}");
    }
    assert_eq!(security["ReferrerPolicy"]["ReferrerPolicy"], "no-referrer");
    assert_eq!(security["FrameOptions"]["FrameOption"], "DENY");
    assert!(security["StrictTransportSecurity"]["AccessControlMaxAgeSec"].as_u64() >= Some(31_536_000));
    // What the gateway sends beside its CSP, the distribution sends too.
    for (name, value) in headers::WEB {
        let ours = match name.as_str() {
            "referrer-policy" => security["ReferrerPolicy"]["ReferrerPolicy"].as_str(),
            "x-frame-options" => security["FrameOptions"]["FrameOption"].as_str(),
            "x-content-type-options" => security["ContentTypeOptions"]["Override"].as_bool().map(|_| "nosniff"),
            other => panic!("headers::WEB has {other}: add it to the distribution's policy"),
        };
        assert_eq!(ours, Some(value), "{name}");
    }
}

#[test]
fn client_side_routes_are_rewritten_to_index_html_and_files_are_not() {
    let t = template();
    let code = resource(&t, "WebSpaRewriteFunction")["Properties"]["FunctionCode"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases = [
        ("/", "/index.html"),
        ("/messages/01J8ZC6Q5N1W2X3Y4Z5A6B7C8D", "/index.html"),
        ("/auth/callback", "/index.html"),
        ("/login", "/index.html"),
        ("/config.json", "/config.json"),
        ("/assets/index-3f2a1b.js", "/assets/index-3f2a1b.js"),
        ("/favicon.ico", "/favicon.ico"),
        ("/v1.2/messages", "/index.html"),
    ];
    let script = format!(
        "{code}\nconst cases = {};\nconsole.log(JSON.stringify(cases.map(([uri]) => handler({{ request: {{ uri, querystring: {{}} }} }}).uri)));",
        serde_json::to_string(&cases.iter().map(|(u, _)| [*u]).collect::<Vec<_>>()).unwrap()
    );
    let out = std::process::Command::new("node")
        .args(["-e", &script])
        .output()
        .expect("node (the web client's tests need it too)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    let want: Vec<&str> = cases.iter().map(|(_, w)| *w).collect();
    assert_eq!(got, want);
}

#[test]
fn the_web_origin_is_derived_wherever_it_is_named() {
    let t = template();
    assert!(t["Parameters"]["WebOrigin"].is_null(), "derived, not a parameter");
    for p in ["WebDomainName", "WebCertificateArn"] {
        assert_eq!(t["Parameters"][p]["Default"], "", "{p} is optional");
    }
    let origin_in = |v: &Value, what: &str| {
        let text = yaml(v);
        assert!(
            text.contains("HasWebDomain")
                && text.contains("${WebDomainName}")
                && text.contains("${WebDistribution.DomainName}"),
            "{what}: {text}"
        );
    };
    origin_in(
        &t["Globals"]["Function"]["Environment"]["Variables"]["WEB_ORIGIN"],
        "WEB_ORIGIN",
    );
    origin_in(
        &resource(&t, "RestApi")["Properties"]["Cors"]["AllowOrigin"],
        "REST CORS",
    );
    let client = &resource(&t, "UserPoolClient")["Properties"];
    origin_in(&client["CallbackURLs"][0], "callback URL");
    origin_in(&client["LogoutURLs"][0], "logout URL");
    assert!(yaml(&client["CallbackURLs"][0]).contains("/auth/callback"));
    assert!(yaml(&client["LogoutURLs"][0]).contains("/login"));
    origin_in(&t["Outputs"]["WebUrl"]["Value"], "the WebUrl output");
}

#[test]
fn nothing_the_distribution_reads_depends_on_it() {
    let t = template();
    let mut forbidden: Vec<String> = functions(&t).into_keys().collect();
    forbidden.extend(["RestApi".into(), "UserPool".into(), "UserPoolClient".into()]);
    for id in [
        "WebDistribution",
        "WebResponseHeadersPolicy",
        "WebSpaRewriteFunction",
        "WebOriginAccessControl",
        "WebBucket",
    ] {
        let text = yaml(resource(&t, id));
        for name in &forbidden {
            let named = [
                format!("${{{name}}}"),
                format!("${{{name}."),
                format!("!Ref {name}\n"),
                format!("!GetAtt {name}."),
            ]
            .iter()
            .any(|pattern| text.contains(pattern.as_str()))
                || text.contains(&format!("Ref: {name}\n"));
            assert!(!named, "{id} names {name}: a dependency cycle through the distribution");
        }
    }
    assert!(!yaml(resource(&t, "AttachmentsBucket")).contains("WebDistribution"));
}

#[test]
fn the_app_client_is_a_public_oidc_code_client_that_cannot_rewrite_its_own_organisation() {
    let t = template();
    let client = &resource(&t, "UserPoolClient")["Properties"];
    assert_eq!(client["GenerateSecret"], false);
    assert_eq!(client["AllowedOAuthFlowsUserPoolClient"], true);
    assert_eq!(yaml(&client["AllowedOAuthFlows"]).trim(), "- code");
    let scopes: BTreeSet<_> = client["AllowedOAuthScopes"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert_eq!(scopes, BTreeSet::from(["openid", "email", "profile"]));
    let flows: BTreeSet<_> = client["ExplicitAuthFlows"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert_eq!(
        flows,
        BTreeSet::from([
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH"
        ]),
        "never ALLOW_USER_PASSWORD_AUTH: passwords go to Cognito's pages only"
    );
    assert_eq!(client["EnableTokenRevocation"], true);
    assert_eq!(client["PreventUserExistenceErrors"], "ENABLED");
    // Organisation and colour are the admins' (they decide whom a client may contact).
    assert_eq!(yaml(&client["WriteAttributes"]).trim(), "- name");

    assert_eq!(resource(&t, "UserPoolDomain")["Properties"]["ManagedLoginVersion"], 2);
    assert_eq!(
        untag(&resource(&t, "ManagedLoginBranding")["Properties"]["ClientId"]),
        "UserPoolClient"
    );
    // What `make deploy-web` and `make smoke` read from the stack.
    for output in [
        "RestApiUrl",
        "WebSocketUrl",
        "UserPoolId",
        "UserPoolClientId",
        "AuthDomain",
        "AuthAuthority",
        "WebUrl",
        "WebBucketName",
        "WebDistributionId",
    ] {
        assert!(!t["Outputs"][output].is_null(), "output {output}");
    }
    // The issuer the web client is configured with is the one the functions check.
    assert_eq!(
        untag(&t["Outputs"]["AuthAuthority"]["Value"]),
        untag(&t["Globals"]["Function"]["Environment"]["Variables"]["JWT_ISSUER"])
    );
    let script = std::fs::read_to_string(integration_tests::services::repo_root().join("infra/deploy-web.sh")).unwrap();
    for output in [
        "RestApiUrl",
        "WebSocketUrl",
        "UserPoolId",
        "UserPoolClientId",
        "WebBucketName",
    ] {
        assert!(script.contains(output), "deploy-web.sh reads {output}");
    }
}
