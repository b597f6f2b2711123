//! Attachments end to end through the local gateway: upload grants, the upload itself,
//! confirmation, sending, events, download — on the embedded blob store and on S3 (moto) —
//! and every limit enforced by the server.

use std::time::Duration;

use integration_tests::gateway::{self, Api, TestGateway};
use integration_tests::services::{aws_endpoint, unique};
use integration_tests::ws;
use serde_json::{Value, json};

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8,
    6, 0, 0, 0,
];
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn s3_backed() -> TestGateway {
    let (prefix, bucket) = (format!("{}-", unique("gw")), unique("att-"));
    gateway::start_with(move |c| {
        c.store = local_gateway::StoreChoice::DynamoDb;
        c.aws_endpoint = Some(aws_endpoint().to_owned());
        c.table_prefix = prefix;
        c.bucket = bucket;
    })
    .await
}

/// Asks for upload slots; returns the grant body.
async fn grant(api: &Api, conv: &str, files: Value) -> Value {
    api.post(
        &format!("/api/messaging/conversations/{conv}/attachments"),
        json!({ "files": files }),
    )
    .await
    .expect(201)
}

/// Uploads `bytes` to a slot the way a browser would (the slot's headers; the length computed).
async fn upload(slot: &Value, bytes: &[u8]) -> u16 {
    let upload = &slot["upload"];
    let mut req = reqwest::Client::new().put(upload["url"].as_str().unwrap());
    for pair in upload["headers"].as_array().unwrap() {
        let (name, value) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        if !name.eq_ignore_ascii_case("content-length") {
            req = req.header(name, value);
        }
    }
    req.body(bytes.to_vec()).send().await.unwrap().status().as_u16()
}

async fn upload_send_download(gw: TestGateway) {
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let omar = gw.login("u-client-omar").await;
    let conv = ben.create_conversation("Files", &["u-client-ana"]).await;
    let base = format!("/api/messaging/conversations/{conv}");
    let mut b1 = ws::connect(&ben, &gw.running.ws_url(), "ben").await;

    let g = grant(
        &ana,
        &conv,
        json!([
            { "name": "mock-up.png", "size": PNG.len(), "contentType": "image/png" },
            { "name": "Brief für Q3.pdf", "size": PDF.len(), "contentType": "application/pdf" }
        ]),
    )
    .await;
    assert_eq!(
        (g["maxFiles"].clone(), g["maxBytes"].clone()),
        (json!(5), json!(10_485_760))
    );
    let slots = g["files"].as_array().unwrap().clone();
    assert_eq!(upload(&slots[0], PNG).await, 200);
    assert_eq!(upload(&slots[1], PDF).await, 200);
    let ids: Vec<&str> = slots.iter().map(|s| s["id"].as_str().unwrap()).collect();

    let sent = ana
        .post(
            &format!("{base}/messages"),
            json!({ "body": "two files", "clientMessageId": "files-1", "fileIds": ids }),
        )
        .await
        .expect(201);
    let files = sent["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[1]["name"], "Brief für Q3.pdf");
    assert!(
        !sent.to_string().contains("http"),
        "messages carry metadata, never URLs"
    );
    // A retry of the same send answers with the original, files and all.
    let again = ana
        .post(
            &format!("{base}/messages"),
            json!({ "body": "two files", "clientMessageId": "files-1", "fileIds": ids }),
        )
        .await
        .expect(200);
    assert_eq!(again["id"], sent["id"]);

    let event = b1.wait_event("new-message", Duration::from_secs(5)).await;
    assert_eq!(event["data"]["message"]["files"], sent["files"]);
    assert!(!event.to_string().contains("http"), "events carry metadata, never URLs");
    let page = ben.get(&format!("{base}/messages")).await.expect(200);
    assert_eq!(page["items"][0]["files"], sent["files"]);

    // Ben downloads the PDF through a short-lived link under its original name.
    let link = ben.get(&format!("{base}/files/{}", ids[1])).await.expect(200);
    let expires = chrono::DateTime::parse_from_rfc3339(link["expiresAt"].as_str().unwrap()).unwrap();
    assert!(
        expires.timestamp() - chrono::Utc::now().timestamp() <= 600,
        "short-lived"
    );
    let response = reqwest::get(link["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(
        disposition.contains("filename*=UTF-8''Brief%20f%C3%BCr%20Q3%2Epdf"),
        "{disposition}"
    );
    assert_eq!(response.bytes().await.unwrap().to_vec(), PDF.to_vec());
    // With ?redirect=true the API answers with a redirect to the same kind of link.
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(gw.url(&format!("{base}/files/{}?redirect=true", ids[0])))
        .bearer_auth(ben.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert!(redirect.status().is_redirection());

    // Outsiders get nothing; a deleted message takes its files with it.
    let refused = omar.get(&format!("{base}/files/{}", ids[0])).await;
    assert_eq!(refused.status.as_u16(), 404);
    ana.delete(&format!("{base}/messages/{}", sent["id"].as_str().unwrap()))
        .await
        .expect(200);
    assert_eq!(ben.get(&format!("{base}/files/{}", ids[0])).await.status.as_u16(), 404);
    let tombstone = ben.get(&format!("{base}/messages")).await.expect(200);
    assert_eq!(tombstone["items"][0]["files"], json!([]));

    // A PDF named like a program keeps its name in the message, but downloads with the
    // extension of what it really is.
    let g = grant(
        &ana,
        &conv,
        json!([{ "name": "scan.exe", "size": PDF.len(), "contentType": "application/pdf" }]),
    )
    .await;
    assert_eq!(upload(&g["files"][0], PDF).await, 200);
    let id = g["files"][0]["id"].as_str().unwrap();
    ana.post(
        &format!("{base}/messages"),
        json!({ "body": "the scan", "clientMessageId": "files-2", "fileIds": [id] }),
    )
    .await
    .expect(201);
    let link = ben.get(&format!("{base}/files/{id}")).await.expect(200);
    let response = reqwest::get(link["url"].as_str().unwrap()).await.unwrap();
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains("filename=\"scan.exe.pdf\""), "{disposition}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upload_send_and_download_on_the_embedded_blob_store() {
    upload_send_download(gateway::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upload_send_and_download_on_s3() {
    upload_send_download(s3_backed().await).await;
}

/// Sends `file_ids` and expects a 400 naming `field`; checks nothing was stored.
async fn refused(api: &Api, conv: &str, file_ids: Value, field: &str, what: &str) -> Value {
    let before = api
        .get(&format!("/api/messaging/conversations/{conv}"))
        .await
        .expect(200)["lastSeq"]
        .clone();
    let reply = api
        .post(
            &format!("/api/messaging/conversations/{conv}/messages"),
            json!({ "body": what, "clientMessageId": unique("c"), "fileIds": file_ids }),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 400, "{what}: {}", reply.text);
    assert_eq!(reply.body["error"]["field"], field, "{what}: {}", reply.text);
    let after = api
        .get(&format!("/api/messaging/conversations/{conv}"))
        .await
        .expect(200)["lastSeq"]
        .clone();
    assert_eq!(before, after, "{what}: nothing was stored");
    reply.body
}

async fn limits_are_enforced(gw: TestGateway, enforces_signature: bool) {
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let conv = ben.create_conversation("Limits", &["u-client-ana"]).await;
    let other = ben.create_conversation("Elsewhere", &["u-client-ana"]).await;
    let attach = format!("/api/messaging/conversations/{conv}/attachments");
    let png = |name: &str| json!({ "name": name, "size": PNG.len(), "contentType": "image/png" });

    // At the grant: a sixth file, 10 MB + 1 byte, a type off the allowlist, unsafe names, nothing.
    let six: Vec<Value> = (0..6).map(|i| png(&format!("{i}.png"))).collect();
    let r = ana.post(&attach, json!({ "files": six })).await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"]["field"].as_str()),
        (400, Some("files")),
        "{}",
        r.text
    );
    let r = ana
        .post(
            &attach,
            json!({ "files": [{ "name": "big.zip", "size": 10_485_761, "contentType": "application/zip" }] }),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"]["field"].as_str()),
        (400, Some("files[0].size")),
        "{}",
        r.text
    );
    let r = ana
        .post(
            &attach,
            json!({ "files": [{ "name": "ok.zip", "size": 10_485_760, "contentType": "application/zip" }] }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "exactly 10 MB is allowed");
    let r = ana
        .post(
            &attach,
            json!({ "files": [{ "name": "run.exe", "size": 10, "contentType": "application/x-msdownload" }] }),
        )
        .await;
    assert_eq!(r.body["error"]["field"], "files[0].contentType");
    let r = ana
        .post(
            &attach,
            json!({ "files": [{ "name": "../../etc/passwd", "size": 10, "contentType": "text/plain" }] }),
        )
        .await;
    assert_eq!(r.body["error"]["field"], "files[0].name");
    let r = ana.post(&attach, json!({ "files": [] })).await;
    assert_eq!(r.body["error"]["field"], "files");

    // At send time. A type that lies about its bytes:
    let g = grant(&ana, &conv, json!([png("not-really.png")])).await;
    let text = [b'x'; PNG.len()];
    assert_eq!(upload(&g["files"][0], &text).await, 200);
    refused(&ana, &conv, json!([g["files"][0]["id"]]), "fileIds", "lying bytes").await;

    // A size that differs from the upload: the signature refuses it (local store, S3); where
    // the backend does not check (moto), confirmation does.
    let g = grant(&ana, &conv, json!([png("short.png")])).await;
    let status = upload(&g["files"][0], &PNG[..PNG.len() - 3]).await;
    if enforces_signature {
        assert_eq!(status, 400, "the signed URL fixes the size");
    }
    let body = refused(&ana, &conv, json!([g["files"][0]["id"]]), "fileIds", "wrong size").await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("bytes")
            || body["error"]["message"].as_str().unwrap().contains("not uploaded")
    );

    // Never uploaded at all:
    let g = grant(&ana, &conv, json!([png("ghost.png")])).await;
    refused(&ana, &conv, json!([g["files"][0]["id"]]), "fileIds", "never uploaded").await;

    // Another user's upload, an upload for another conversation:
    let theirs = grant(&ben, &conv, json!([png("bens.png")])).await;
    assert_eq!(upload(&theirs["files"][0], PNG).await, 200);
    refused(
        &ana,
        &conv,
        json!([theirs["files"][0]["id"]]),
        "fileIds",
        "someone else's file",
    )
    .await;
    let elsewhere = grant(&ana, &other, json!([png("elsewhere.png")])).await;
    assert_eq!(upload(&elsewhere["files"][0], PNG).await, 200);
    refused(
        &ana,
        &conv,
        json!([elsewhere["files"][0]["id"]]),
        "fileIds",
        "another conversation's file",
    )
    .await;

    // Six ids, a duplicate id, a reused id:
    let g = grant(
        &ana,
        &conv,
        json!([png("a.png"), png("b.png"), png("c.png"), png("d.png"), png("e.png")]),
    )
    .await;
    let mut five: Vec<Value> = Vec::new();
    for slot in g["files"].as_array().unwrap() {
        assert_eq!(upload(slot, PNG).await, 200);
        five.push(slot["id"].clone());
    }
    let mut six = five.clone();
    six.push(elsewhere["files"][0]["id"].clone());
    refused(&ana, &conv, json!(six), "fileIds", "six files").await;
    refused(&ana, &conv, json!([five[0], five[0]]), "fileIds", "the same file twice").await;
    // Nothing above attached anything: all five still go out with one message.
    let sent = ana
        .post(
            &format!("/api/messaging/conversations/{conv}/messages"),
            json!({ "body": "five", "clientMessageId": "five", "fileIds": five }),
        )
        .await
        .expect(201);
    assert_eq!(sent["files"].as_array().unwrap().len(), 5);
    refused(&ana, &conv, json!([five[0]]), "fileIds", "a file already attached").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_limit_is_enforced_on_the_embedded_blob_store() {
    limits_are_enforced(gateway::start().await, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_limit_is_enforced_on_s3() {
    limits_are_enforced(s3_backed().await, false).await;
}
