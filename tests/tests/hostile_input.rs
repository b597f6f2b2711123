//! Hostile input at the local gateway (issue 13, items 2 and 3): text that would deceive
//! its readers is refused with the field named; bodies are limited before they are read
//! (a 9 MB body without a valid signature or token is answered before it is sent); every
//! 413 is the JSON error; every response carries the security headers.

use std::time::Duration;

use integration_tests::gateway::{self, Api, TestGateway};
use integration_tests::ws;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn refused(reply: integration_tests::gateway::Reply, field: &str, words: &str) {
    assert_eq!(reply.status.as_u16(), 400, "{}", reply.text);
    assert_eq!(reply.body["error"]["field"], field, "{}", reply.text);
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(words), "{message:?} should say {words:?}");
}

async fn two_people() -> (TestGateway, Api, String) {
    let gw = gateway::start().await;
    let ben = gw.login("u-team-ben").await;
    let conv = ben.create_conversation("Launch", &["u-client-ana"]).await;
    (gw, ben, conv)
}

#[tokio::test]
async fn text_that_would_deceive_is_refused_naming_the_field_and_nothing_is_written() {
    let (_gw, ben, conv) = two_people().await;
    let messages = format!("/api/messaging/conversations/{conv}/messages");

    // Bidi overrides in a title, a name, a file name.
    let reply = ben
        .post(
            "/api/messaging/conversations",
            json!({ "title": "Invoice \u{202E}fdp.exe", "participantIds": ["u-client-ana"] }),
        )
        .await;
    refused(reply, "title", "bidirectional").await;
    let reply = ben
        .patch(
            &format!("/api/messaging/conversations/{conv}"),
            json!({ "title": "a\u{2067}b" }),
        )
        .await;
    refused(reply, "title", "bidirectional").await;
    refused(
        ben.patch("/api/messaging/me", json!({ "name": "Ben \u{202D}Admin" }))
            .await,
        "name",
        "bidirectional",
    )
    .await;
    let reply = ben
        .post(
            &format!("/api/messaging/conversations/{conv}/attachments"),
            json!({ "files": [
                { "name": "notes.txt", "size": 10, "contentType": "text/plain" },
                { "name": "invoice_\u{202E}fdp.exe", "size": 10, "contentType": "application/pdf" }
            ] }),
        )
        .await;
    refused(reply, "files[1].name", "bidirectional").await;

    // Bodies of invisible characters only, and a 3,000-mark "Zalgo" letter.
    for body in ["\u{200B}\u{200B}\u{200B}", "\u{2060}\u{FEFF} \u{3164}"] {
        refused(
            ben.post(
                &messages,
                json!({ "body": body, "clientMessageId": ulid::Ulid::generate().to_string() }),
            )
            .await,
            "body",
            "visible",
        )
        .await;
    }
    let zalgo = format!("a{}", "\u{0301}".repeat(3000));
    refused(
        ben.post(
            &messages,
            json!({ "body": zalgo, "clientMessageId": ulid::Ulid::generate().to_string() }),
        )
        .await,
        "body",
        "combining marks",
    )
    .await;

    // Nothing was written, and text in real scripts still goes through.
    let page = ben.get(&messages).await.expect(200);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(0), "{page}");
    for body in [
        "Tiếng Việt có dấu",
        "नमस्ते",
        "שָׁלוֹם \u{202B}עולם\u{202C}",
        "👩\u{200D}💻 on it",
    ] {
        ben.post(
            &messages,
            json!({ "body": body, "clientMessageId": ulid::Ulid::generate().to_string() }),
        )
        .await
        .expect(201);
    }
    let titles = ben.get("/api/messaging/conversations").await.expect(200);
    assert_eq!(titles["items"].as_array().map(Vec::len), Some(1));
}

/// Sends the head of a request whose body is `declared` bytes long, none of the body, and
/// returns what the server answers within five seconds (`None`: it waited for the body).
async fn answer_before_the_body(gw: &TestGateway, head: &str, declared: usize) -> Option<String> {
    let mut stream = TcpStream::connect(gw.running.addr).await.expect("connect");
    let request =
        format!("{head}\r\nHost: localhost\r\nContent-Length: {declared}\r\nContent-Type: application/json\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
        Ok(Ok(n)) if n > 0 => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn large_bodies_are_refused_before_they_are_read_and_every_413_is_json() {
    let (gw, ben, conv) = two_people().await;
    let nine_mb = 9 * 1024 * 1024;

    // No token, 9 MB declared: a JSON 413 at once.
    let answer = answer_before_the_body(&gw, "POST /api/messaging/conversations HTTP/1.1", nine_mb)
        .await
        .expect("answered without reading the body");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("content-type: application/json"),
        "{answer}"
    );
    assert!(answer.contains("payload_too_large"), "{answer}");

    // A blob upload with a forged signature: refused before the body.
    let answer = answer_before_the_body(
        &gw,
        "PUT /blobs/conversations/x/y?expires=99999999999&signature=00 HTTP/1.1",
        nine_mb,
    )
    .await
    .expect("answered without reading the body");
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");

    // Over 10 MB to the blob store, and over 64 KB to the API with no length (chunked):
    // both the JSON error.
    let answer = answer_before_the_body(&gw, "PUT /blobs/anything HTTP/1.1", 11 * 1024 * 1024)
        .await
        .expect("answered");
    assert!(
        answer.starts_with("HTTP/1.1 413") && answer.contains("payload_too_large"),
        "{answer}"
    );
    let mut stream = TcpStream::connect(gw.running.addr).await.expect("connect");
    let head = format!(
        "POST /api/messaging/conversations/{conv}/messages HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        ben.token.as_deref().unwrap_or_default()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    for _ in 0..100 {
        // The server may stop reading (and answer) before every chunk is written.
        if stream
            .write_all(format!("400\r\n{}\r\n", " ".repeat(1024)).as_bytes())
            .await
            .is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("answered")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let web = tempfile::tempdir().expect("dir");
    std::fs::write(web.path().join("index.html"), "<!doctype html><title>t</title>").expect("index");
    let dir = web.path().to_owned();
    let gw = gateway::start_with(move |c| c.web_dir = Some(dir)).await;
    let ben = gw.login("u-team-ben").await;

    let private = [
        ben.get("/api/messaging/conversations").await,
        ben.get("/api/messaging/conversations/nope/messages").await,
        gw.anonymous().get("/api/messaging/me").await,
    ];
    for reply in &private {
        let h = &reply.headers;
        assert_eq!(h["cache-control"], "no-store", "{}", reply.status);
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
    }
    // The dev login hands out tokens: not cacheable either.
    let login = gw
        .http
        .post(gw.url("/dev/login"))
        .json(&json!({ "userId": "u-client-ana" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.headers()["cache-control"], "no-store");

    for path in ["/", "/conversations/some-id"] {
        let page = gw.http.get(gw.url(path)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        let h = page.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp} lacks {directive}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["cache-control"], "no-cache");
    }
}

/// API Gateway closes a connection that sends a frame over 32 KB with 1009 (message too
/// big); so does the gateway, for a message just over the limit and for one far over it.
#[tokio::test]
async fn oversized_websocket_frames_close_the_connection_with_1009() {
    let (gw, ben, conv) = two_people().await;
    for size in [32 * 1024 + 1, 1024 * 1024] {
        let mut socket = ws::connect(&ben, &gw.running.ws_url(), "ben").await;
        let frame = json!({ "action": "typing", "conversationId": conv, "pad": "x".repeat(size) });
        socket.send(frame).await;
        assert_eq!(
            socket.close_code(Duration::from_secs(5)).await,
            Some(1009),
            "{size} bytes"
        );
    }
    // A frame within the limit is served as before.
    let mut socket = ws::connect(&ben, &gw.running.ws_url(), "ben").await;
    socket.send(json!({ "action": "ping" })).await;
    assert!(socket.try_wait_for(Duration::from_secs(5), |_| true).await.is_some());
}

/// With attachments on S3, the signed URLs point at S3's origin: the web client's policy
/// lets it upload there and show previews from there, and nowhere else.
#[tokio::test]
async fn the_web_policy_names_the_blob_store_when_it_is_elsewhere() {
    let web = tempfile::tempdir().expect("dir");
    std::fs::write(web.path().join("index.html"), "<!doctype html><title>t</title>").expect("index");
    let dir = web.path().to_owned();
    let endpoint = integration_tests::services::aws_endpoint().to_owned();
    let origin = endpoint.trim_end_matches('/').to_owned();
    let gw = gateway::start_with(move |c| {
        c.web_dir = Some(dir);
        c.store = local_gateway::StoreChoice::DynamoDb;
        c.aws_endpoint = Some(endpoint);
        c.table_prefix = format!("{}-", integration_tests::services::unique("csp"));
        c.bucket = integration_tests::services::unique("csp");
    })
    .await;
    let page = gw.http.get(gw.url("/")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    for directive in ["connect-src 'self' ", "img-src 'self' blob: data: "] {
        assert!(
            csp.contains(&format!("{directive}{origin}")),
            "{csp} lacks {directive}{origin}"
        );
    }
    assert!(csp.contains("frame-ancestors 'none'"));
}
